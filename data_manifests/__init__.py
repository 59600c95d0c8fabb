"""What exists upstream (files, URLs, sizes, sha256) and the one module that fetches and verifies them."""
