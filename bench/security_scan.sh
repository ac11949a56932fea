#!/usr/bin/env bash
# Runs sqlmap and wapiti against a local BackCare demo (127.0.0.1 only) signed in as the demo
# clinic admin, and prints a summary. Not part of `make test`: scanners are slow and their
# findings need a person to read them. Record the summary in docs/security.md ("Scanners").
#
#   bash bench/security_scan.sh     # PORT=8765 SCAN_MINUTES=4 SCANNERS="sqlmap wapiti" by default
#
# The scanners live in their own virtual environment (outside the project's), made on first use.
set -euo pipefail

cd "$(dirname "$0")/.."
PORT="${PORT:-8765}"
SCAN_MINUTES="${SCAN_MINUTES:-4}"
SCANNERS="${SCANNERS:-sqlmap wapiti}"
SCAN_VENV="${SCAN_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/backcare-scan-venv}"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"
SUMMARY="$WORK/summary.txt"
PY=.venv/bin/python
export DEBUG=1 BACKCARE_REQUIRE_STAFF_MFA=0 SITE_URL="$BASE"
export DATABASE_URL="sqlite:///$WORK/scan.sqlite3"

server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

say() { echo "$*" | tee -a "$SUMMARY"; }

# --- Scanners ---------------------------------------------------------------------------------
[ -x "$SCAN_VENV/bin/python" ] || python3 -m venv "$SCAN_VENV"
for package in sqlmap wapiti3; do
  "$SCAN_VENV/bin/python" -m pip install -q "$package" >"$WORK/pip-$package.log" 2>&1 \
    || echo "could not install $package (see $WORK/pip-$package.log)"
done

# --- Demo server ------------------------------------------------------------------------------
$PY manage.py migrate --noinput -v0
$PY manage.py load_demo >/dev/null
$PY manage.py runserver "127.0.0.1:$PORT" --noreload >"$WORK/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 60); do curl -fs -o /dev/null "$BASE/accounts/login/" && break; sleep 1; done

# Signs in through the real login page and prints the session cookie.
read -r SESSION CSRF <<<"$(BASE="$BASE" $PY - <<'PYTHON'
import http.cookiejar, os, re, urllib.parse, urllib.request
from backcare.core.demo import DEMO_PASSWORD
base = os.environ["BASE"]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
page = opener.open(f"{base}/accounts/login/").read().decode()
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
form = {"csrfmiddlewaretoken": token, "login": "admin@demo.backcare.example",
        "password": DEMO_PASSWORD}
opener.open(urllib.request.Request(f"{base}/accounts/login/",
            data=urllib.parse.urlencode(form).encode(), headers={"Referer": base + "/"}))
cookies = {c.name: c.value for c in jar}
print(cookies["sessionid"], cookies["csrftoken"])
PYTHON
)"
COOKIE="sessionid=$SESSION; csrftoken=$CSRF"
# Pages whose visit would end the session or that only send mail.
EXCLUDE='logout|password|email|2fa|reauthenticate'

say "BackCare security scan, $(date -u +%Y-%m-%dT%H:%MZ), against $BASE (demo data, SQLite)"

# --- sqlmap -----------------------------------------------------------------------------------
if [[ " $SCANNERS " != *" sqlmap "* ]]; then
  say "sqlmap: not run (SCANNERS)"
elif [ -x "$SCAN_VENV/bin/sqlmap" ]; then
  say "sqlmap $("$SCAN_VENV/bin/sqlmap" --version 2>/dev/null | tail -1)"
  timeout "$((SCAN_MINUTES * 60))" "$SCAN_VENV/bin/sqlmap" -u "$BASE/" --cookie="$COOKIE" \
    --crawl=2 --crawl-exclude="$EXCLUDE" --forms --batch --level=1 --risk=1 \
    --technique=BEUS --skip=sessionid,csrftoken --csrf-token=csrfmiddlewaretoken \
    --csrf-url="$BASE/patients/new/" --output-dir="$WORK/sqlmap" >"$WORK/sqlmap.log" 2>&1 || true
  say "  forms and URLs found: $(grep -oE '^\[1/[0-9]+\]' "$WORK/sqlmap.log" | head -1 | tr -d '[]' | cut -d/ -f2)"
  say "  forms and URLs tested: $(grep -cE '^\[[0-9]+/[0-9]+\] (Form|URL):' "$WORK/sqlmap.log" || true)"
  say "  parameters tested: $(grep -c 'testing for SQL injection on' "$WORK/sqlmap.log" || true)"
  say "  parameters found not injectable: $(grep -c 'does not seem to be injectable' "$WORK/sqlmap.log" || true)"
  say "  injection points found: $(grep -c 'sqlmap identified the following injection' "$WORK/sqlmap.log" || true)"
  grep -iE 'vulnerable|identified the following' "$WORK/sqlmap.log" | sed 's/^/  /' | tee -a "$SUMMARY" || true
else
  say "sqlmap: not installed"
fi

# --- wapiti -----------------------------------------------------------------------------------
if [[ " $SCANNERS " != *" wapiti "* ]]; then
  say "wapiti: not run (SCANNERS)"
elif [ -x "$SCAN_VENV/bin/wapiti" ]; then
  say "wapiti $("$SCAN_VENV/bin/wapiti" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)"
  # Modules that need no outside endpoint (ssrf, xxe and log4shell call one on the internet).
  timeout "$((SCAN_MINUTES * 60 * 3))" "$SCAN_VENV/bin/wapiti" -u "$BASE/" --scope folder \
    --cookie-value "$COOKIE" -x "$BASE/accounts/logout/" --tasks 4 --flush-session \
    -d 3 --max-links-per-page 30 -m "sql,xss,permanentxss,exec,file,redirect,crlf,csp,http_headers,cookieflags" \
    --max-scan-time "$((SCAN_MINUTES * 60))" --max-attack-time "$((SCAN_MINUTES * 6))" \
    -f json -o "$WORK/wapiti.json" >"$WORK/wapiti.log" 2>&1 || true
  if [ -s "$WORK/wapiti.json" ]; then
    "$SCAN_VENV/bin/python" - "$WORK/wapiti.json" <<'PYTHON' | tee -a "$SUMMARY"
import json, sys
report = json.load(open(sys.argv[1]))
for section in ("vulnerabilities", "anomalies"):
    for name, found in report.get(section, {}).items():
        if found:
            print(f"  {section}: {name}: {len(found)}")
            for item in found[:5]:
                print(f"    {item.get('method')} {item.get('path')} {item.get('parameter', '')}: {item.get('info', '')[:120]}")
print(f"  pages crawled: {report.get('infos', {}).get('crawled_pages_nbr', '?')}")
PYTHON
  else
    say "  no report (see $WORK/wapiti.log)"
  fi
else
  say "wapiti: not installed"
fi

grep -c '" 500 ' "$WORK/server.log" | sed 's/^/server 500 responses during the scans: /' | tee -a "$SUMMARY" || true
echo "Summary: $SUMMARY (logs and reports beside it)"
