#!/bin/sh
# ippeveprinter's print command (-c): $1 is the received document.
# Simulates a card printer. A fault is injected by writing one word into $CARDSIM_FAULT_FILE
# (default: <spool>/fault) before a job arrives: jam, ribbon, cover, hopper, slow, or nothing.
# (Copied from the project's shared printer-sim recipe; tests/integration/support/printer_sim.rs drives it.)
FAULT_FILE=${CARDSIM_FAULT_FILE:-$(dirname "$1")/fault}
FAULT=$(cat "$FAULT_FILE" 2>/dev/null)
case "$FAULT" in
  jam)    echo "STATE: +media-jam" >&2;           echo "ERROR: Card jam" >&2;        exit 1 ;;
  ribbon) echo "STATE: +marker-supply-empty" >&2; echo "ERROR: Ribbon empty" >&2;    exit 1 ;;
  cover)  echo "STATE: +cover-open" >&2;          echo "ERROR: Cover open" >&2;      exit 1 ;;
  hopper) echo "STATE: +media-empty" >&2;         echo "ERROR: Card hopper empty" >&2; exit 1 ;;
  slow)   sleep 3 ;;
  *)      echo "STATE: -media-jam,marker-supply-empty,cover-open,media-empty" >&2 ;;
esac
cat "$1"
echo "ATTR: job-impressions=2 job-impressions-completed=2" >&2
exit 0
