"""Video: frames sampled at one per second (PyAV/FFmpeg, or Pillow for animated GIF and WebP),
black borders trimmed, and the vPDQ frame format threatexchange and HMA exchange."""
