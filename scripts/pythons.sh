#!/bin/sh
# The CPythons that `just test` runs the book and its modules under, beyond the reader's own:
#   - CPython 3.14 and 3.15, with their debug builds, from Debian's sid suite, installed in a root
#     folder of their own made with debootstrap (this machine's Debian has neither);
#   - Debian's debug build of this machine's CPython 3.11 (python3.11-dbg), where apt has it.
# Everything is cached in $BOOK_PYTHONS (default ~/.cache/python-modules-in-rust): the root folder
# in sid/, and in bin/ one small launcher per interpreter (python3.14, python3.14-dbg, python3.15,
# python3.15-dbg) plus sid-run, which runs any program inside the root folder. tests/conftest.py
# finds the launchers there. A second run only checks (well under a second).
#
# It needs root, apt-get and the network (about 2 minutes and 1.5 GB the first time). Where it
# cannot run, it says so and what to install, and exits 0: the tests that need these interpreters
# are then reported as skipped, naming this script.
set -eu

say() { printf 'setup: %s\n' "$*"; }

cache="${BOOK_PYTHONS:-${XDG_CACHE_HOME:-$HOME/.cache}/python-modules-in-rust}"
root="$cache/sid"
bin="$cache/bin"
mirror="${BOOK_SID_MIRROR:-http://deb.debian.org/debian}"
# What the root folder holds. Changing the list reinstalls what is missing.
packages="python3.14 python3.14-dev python3.14-venv python3.14-dbg
python3.15 python3.15-dev python3.15-venv python3.15-dbg
gcc libc6-dev binutils valgrind strace gdb ca-certificates"
packages=$(printf '%s\n' $packages | sort | tr '\n' ' ')

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "warning: CPython 3.14 and 3.15 for the tests come from Debian's sid suite in a root" \
        "folder, which needs root and apt-get (Debian/Ubuntu): the tests under them will be" \
        "skipped. Run scripts/pythons.sh as root, or put python3.14 and python3.15 on PATH."
    exit 0
fi

# The host's own debug CPython (bookworm's python3.11-dbg), if its apt knows it.
if ! command -v python3.11-dbg >/dev/null 2>&1; then
    say "installing Debian's debug CPython 3.11 for the tests (apt-get install python3.11-dbg)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11-dbg \
        >/dev/null; } || say "warning: apt-get could not install python3.11-dbg"
fi

if [ "$(cat "$cache/sid.packages" 2>/dev/null)" != "$packages" ] || [ ! -x "$root/usr/bin/python3.15" ]; then
    if [ ! -x "$root/bin/sh" ]; then
        if ! command -v debootstrap >/dev/null 2>&1; then
            say "installing debootstrap (apt-get install debootstrap)"
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                debootstrap >/dev/null; } || { say "warning: could not install debootstrap:" \
                "the tests under CPython 3.14 and 3.15 will be skipped"; exit 0; }
        fi
        say "making a Debian sid root folder for CPython 3.14 and 3.15 in $root (about 2 minutes)"
        rm -rf "$root.tmp"
        mkdir -p "$cache"
        debootstrap --variant=minbase sid "$root.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
            say "warning: debootstrap failed (see $cache/debootstrap.log): the tests under" \
                "CPython 3.14 and 3.15 will be skipped"; exit 0; }
        mv "$root.tmp" "$root"
    fi
    say "installing CPython 3.14 and 3.15 in the sid root folder (apt-get install $packages)"
    # sid's Release file may be past its Valid-Until date on a mirror snapshot; the signature is
    # still checked.
    # shellcheck disable=SC2086
    if ! unshare --mount --propagation private -- sh -c '
        mount -t proc proc "$1/proc" && cp /etc/resolv.conf "$1/etc/resolv.conf" && shift &&
        chroot "$0" sh -c "export DEBIAN_FRONTEND=noninteractive;
            apt-get -o Acquire::Check-Valid-Until=false update -qq &&
            apt-get install -y -qq --no-install-recommends $*"' "$root" "$root" $packages \
        >"$cache/apt.log" 2>&1; then
        say "warning: apt-get in the sid root folder failed (see $cache/apt.log): the tests under" \
            "CPython 3.14 and 3.15 will be skipped"
        exit 0
    fi
    printf '%s' "$packages" >"$cache/sid.packages"
fi

# Inside the root folder, /opt/book/3.N/bin holds `python3` for CPython 3.N, so that a PATH with it
# first gives a reader's setup with that version as python3 (sid itself has no `python3`).
for v in 3.14 3.15; do
    mkdir -p "$root/opt/book/$v/bin"
    ln -sf "/usr/bin/python$v" "$root/opt/book/$v/bin/python3"
done
# pip inside reads the host's configuration (this machine's index and certificate settings).
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$root/etc/pip.conf"

mkdir -p "$bin"
cat >"$bin/sid-run.tmp" <<EOF
#!/bin/sh
# sid-run PROGRAM [ARGS...]: run PROGRAM inside the sid root folder $root,
# made by scripts/pythons.sh. A private mount namespace shows this machine's own folders (home,
# /tmp, /work and the like, /proc, /dev, /sys) at the same paths inside, so a path means the same
# thing inside as outside, and nothing stays mounted when the program ends. The current folder and
# the environment are kept; the host's certificate bundle and resolver are used.
# The caller's PATH is the program's; the mounting is done with the system's own tools.
path=\$PATH
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export path
exec unshare --mount --propagation private -- /bin/sh -c '
    r=\$1; cwd=\$2; shift 2
    # The top-level folder of the current folder comes too (a clone anywhere works), unless it is
    # a system folder of the root folder: then only the current folder itself. SID_RUN_BIND names
    # more folders (absolute, separated by colons), each shown at its own path. (No apostrophes
    # in here: this program is one quoted word.)
    top=\$(echo "\$cwd" | cut -d/ -f1-2)
    case \$top in /usr|/bin|/sbin|/lib|/lib32|/lib64|/libx32|/etc|/var|/opt|/boot|/run) top=\$cwd ;; esac
    binds=\$(printf "%s" "\${SID_RUN_BIND:-}" | tr : " ")
    for d in /proc /sys /dev /tmp /root /home /work /opt/wheels /srv /mnt "\$top" \$binds; do
        [ -d "\$d" ] && [ "\$d" != / ] || continue
        mountpoint -q "\$r\$d" && continue
        mkdir -p "\$r\$d" && mount --rbind "\$d" "\$r\$d"
    done
    mount --bind /etc/resolv.conf "\$r/etc/resolv.conf"
    [ -f /etc/ssl/certs/ca-certificates.crt ] &&
        mount --bind /etc/ssl/certs/ca-certificates.crt "\$r/etc/ssl/certs/ca-certificates.crt"
    exec chroot "\$r" /usr/bin/env -u path PATH="\$path" /bin/sh -c "cd \\"\\\$0\\" && exec \\"\\\$@\\"" "\$cwd" "\$@"
' sid-run "$root" "\$(pwd)" "\$@"
EOF
chmod +x "$bin/sid-run.tmp"
mv "$bin/sid-run.tmp" "$bin/sid-run"
for exe in python3.14 python3.14-dbg python3.15 python3.15-dbg; do
    printf '#!/bin/sh\n# %s from Debian sid, run inside its root folder (scripts/pythons.sh).\nexec "%s" /usr/bin/%s "$@"\n' \
        "$exe" "$bin/sid-run" "$exe" >"$bin/$exe"
    chmod +x "$bin/$exe"
done
"$bin/python3.15" -c 'pass' 2>/dev/null ||
    { say "warning: $bin/python3.15 does not start; the tests under it will fail"; exit 0; }
