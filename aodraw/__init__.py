"""AODRaw: RAW object detection under 9 light/weather conditions (data, converters, MMDetection glue)."""
