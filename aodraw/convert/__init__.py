"""Converters of the AODRaw image folder: official downsampled and sliced data, Bayer packs, slice merge-back."""
