#!/usr/bin/env bash
# Install the Debian packages pbcount needs, only those missing. Idempotent.
#   tesseract-ocr (+eng, fra)  OCR of printed ballot codes
#   postgresql                 multi-station store (tests start a throwaway cluster)
#   chromium                   headless browser tests of the public page
set -euo pipefail

missing=()
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra)
[ -d /usr/share/tesseract-ocr ] && ! ls /usr/share/tesseract-ocr/*/tessdata/eng.traineddata >/dev/null 2>&1 \
  && missing+=(tesseract-ocr-eng)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

echo "system packages: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
echo "system packages: done"
