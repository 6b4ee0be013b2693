#!/usr/bin/env bash
# Make sure Tesseract's language data is installed for reading text in images (docs/ocr.md).
# The engine itself comes with the `tesserocr` wheel from PyPI; its script models and
# language packs come from Debian. Without them Warding keeps working and says that text in
# images is not read (`warding ocr status`); the OCR tests skip outside CI and fail in CI.
set -euo pipefail
PACKAGES="tesseract-ocr tesseract-ocr-osd tesseract-ocr-script-latn tesseract-ocr-script-arab
  tesseract-ocr-script-cyrl tesseract-ocr-ara tesseract-ocr-eng tesseract-ocr-fra
  tesseract-ocr-deu tesseract-ocr-rus tesseract-ocr-spa tesseract-ocr-tur tesseract-ocr-urd
  fonts-dejavu-core fonts-sil-scheherazade"
TESSDATA="${WARDING_OCR_TESSDATA:-/usr/share/tesseract-ocr/5/tessdata}"
missing=""
for f in Latin Arabic Cyrillic ara eng fra deu rus spa tur urd; do
  [ -f "$TESSDATA/$f.traineddata" ] || missing="$missing $f"
done
# fonts to render the tests' and the benchmark's neutral sentences (Urdu needs Scheherazade)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$missing dejavu-font"
[ -d /usr/share/fonts/truetype/scheherazade ] || missing="$missing scheherazade-font"
if [ -z "$missing" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Tesseract's language data (Debian packages tesseract-ocr-*)"
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES >/dev/null
  exit 0
fi
echo "Tesseract language data missing ($missing ) in $TESSDATA: install the Debian packages" >&2
echo "  $PACKAGES" >&2
echo "(Warding keeps working without them: text in images is not read)" >&2
