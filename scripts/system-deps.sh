#!/usr/bin/env bash
# Install the Debian packages the test suite needs, only when something is missing:
# chromium (Playwright drives it), Thai fonts (what the pages render with),
# poppler-utils (pdftotext/pdftoppm/pdfsig to read PDFs and their signatures back), Pango for WeasyPrint.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# (Read fc-list whole: `fc-list | grep -q` can die of SIGPIPE and, under pipefail, look like "missing".)
fonts=$(fc-list 2>/dev/null || true)
grep -qi laksaman <<<"$fonts" || missing+=(fonts-thai-tlwg fonts-tlwg-laksaman)
{ command -v pdftoppm && command -v pdfsig; } >/dev/null 2>&1 || missing+=(poppler-utils)
# WeasyPrint draws the PDF with Pango (and libthai for Thai line breaks).
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || missing+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libthai0)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" fontconfig
