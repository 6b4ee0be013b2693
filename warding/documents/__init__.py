"""Documents (PDF): their text and embedded images, page by page, within limits."""
