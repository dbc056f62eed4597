#!/usr/bin/env bash
# Makes sure the browser engines a test run needs are installed. On Debian as root it installs the
# missing ones from Debian's packages (no browser download is possible or needed); anywhere else it
# stops and names what to install. It never lets a run skip an engine silently.
set -euo pipefail

engines="${BROWSERS:-chromium,firefox,webkit,qtwebkit}"
[ "${CI:-}" = "true" ] && engines="chromium,firefox,webkit,qtwebkit"

missing_pkgs=()
need() { # need <file> <debian packages...>
  local file=$1; shift
  [ -e "$file" ] || missing_pkgs+=("$@")
}
case ",$engines," in *,chromium,*) need /usr/bin/chromium chromium ;; esac
case ",$engines," in *,firefox,*) need /usr/lib/firefox-esr/firefox-esr firefox-esr ;; esac
case ",$engines," in *,webkit,*)
  need /usr/bin/WebKitWebDriver webkit2gtk-driver
  need /usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser webkit2gtk-driver
  need /usr/bin/Xvfb xvfb xauth
  ;;
esac
# QtWebKit 5.212 (the legacy bundle's engine, scripts/lib/qtwebkit.mjs): Qt's offscreen platform, no X display.
case ",$engines," in *,qtwebkit,*)
  need /usr/bin/python3 python3
  need /usr/lib/python3/dist-packages/PyQt5/QtWebKitWidgets.abi3.so python3-pyqt5.qtwebkit
  ;;
esac

[ ${#missing_pkgs[@]} -eq 0 ] && exit 0
# shellcheck disable=SC2207
pkgs=($(printf '%s\n' "${missing_pkgs[@]}" | sort -u))

if [ -f /etc/debian_version ] && [ "$(id -u)" = "0" ]; then
  echo "Installing browser engines from Debian: ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends keeps it to the browsers (without it apt pulls ~350 packages).
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" xauth >/dev/null
  exit 0
fi

echo "The browser tests need: ${pkgs[*]} (Debian package names)." >&2
echo "Install them (for example: sudo apt-get install --no-install-recommends ${pkgs[*]})," >&2
echo "or narrow a local run with BROWSERS=chromium,firefox,webkit,qtwebkit (CI always runs all four)." >&2
exit 1
