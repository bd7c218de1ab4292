# shellcheck shell=bash
# Sourced by scripts/test and scripts/demo: what Partyline needs on Debian 12,
# and the two set-up steps both scripts share. Run from the project's root.

# Everything to build, test and demo Partyline on a minimal Debian 12 root.
PL_DEPS=(
  build-essential meson ninja-build pkg-config gettext
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-nice gstreamer1.0-tools
  libsoup-3.0-dev libjson-glib-dev libnice-dev libssl-dev
  iproute2 util-linux procps python3
  libgtk-4-dev libadwaita-1-dev desktop-file-utils appstream libglib2.0-bin
  librsvg2-common xvfb xauth dbus imagemagick xdotool xclip fonts-cantarell fonts-noto-cjk
  python3-gi
  python3-aiortc
  valgrind
  clang-14 libclang-rt-14-dev
)
# scripts/test-sanitizers needs valgrind (above; it brings libc6-dbg) and
# gcc's libasan8 and libubsan1, which come with build-essential (gcc-12 ->
# libgcc-12-dev).
# tests/security runs an independent WebRTC phone on Debian's aiortc
# (python3-aiortc, under /usr/bin/python3).
# scripts/test-fuzz needs clang 14 and its libFuzzer and sanitizer runtimes:
# libclang_rt.fuzzer-x86_64.a and libclang_rt.asan-x86_64.a are in
# libclang-rt-14-dev (dpkg -S); clang-14 installs /usr/bin/clang-14, and
# scripts/test-fuzz uses CC=clang-14.

# Install the packages of PL_DEPS that are missing. A machine that has them
# all does not touch the network.
pl_install_deps () {
  local missing=() p
  for p in "${PL_DEPS[@]}"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    return 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Configure build/ (warnings are errors) or reconfigure it, then build.
pl_build () {
  if [ -f build/meson-private/coredata.dat ]; then
    meson setup --reconfigure build -Dwerror=true
  else
    meson setup build -Dwerror=true
  fi
  ninja -C build
}
