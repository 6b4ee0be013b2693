"""Text in images (OCR): read the text an image holds, offline, so that it gets the item's
text signals (origin ``ocr``) and the classifier's score. See docs/ocr.md."""
