#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the ABI reference (HTML) from sdk/include/vireo/*.h with ddk-docs/reference/
# Doxyfile and fails, after listing them all as FILE:LINE: text, on any Doxygen warning
# and on what Debian 12's Doxygen 1.9.4 does not report itself: an undocumented enum
# value, an undocumented return value of a function-pointer typedef (a class op), a
# header without a @file comment (Doxygen then skips all of it without a word).
# On failure OUTPUT_DIR is removed, so that a build system does not take it as done.
# Usage: build.sh SOURCE_ROOT OUTPUT_DIR [ABI_VERSION [DEPFILE]]
#   OUTPUT_DIR is replaced; the HTML is OUTPUT_DIR/html/index.html. DEPFILE, if given,
#   gets a make-style rule naming every input, for the build system.
set -u
if (($# < 2)); then
	echo "usage: $0 SOURCE_ROOT OUTPUT_DIR [VERSION [DEPFILE]]" >&2
	exit 2
fi
src=$(cd "$1" && pwd) || exit 2
out=$2
version=${3:-}
depfile=${4:-}
target=$out
command -v doxygen >/dev/null || { echo "abi-reference: doxygen is not installed" >&2; exit 2; }
command -v python3 >/dev/null || { echo "abi-reference: python3 is not installed" >&2; exit 2; }
case $out in /*) ;; *) out=$PWD/$out ;; esac
case $depfile in '' | /*) ;; *) depfile=$PWD/$depfile ;; esac

rm -rf "$out"
mkdir -p "$out" || exit 2
xml=$(mktemp -d) || exit 2
log=$(mktemp) || exit 2
trap 'rm -rf "$xml" "$log"' EXIT

# Doxygen reads its configuration from stdin with "-": the checked-in settings, then
# where this run writes. Relative paths in the Doxyfile are from the source root.
cd "$src" || exit 2
{
	cat ddk-docs/reference/Doxyfile
	printf 'OUTPUT_DIRECTORY = "%s"\n' "$out"
	printf 'PROJECT_NUMBER = "%s"\n' "$version"
	# The XML is only for the checks below, not part of the reference.
	printf 'GENERATE_XML = YES\nXML_OUTPUT = "%s"\nXML_PROGRAMLISTING = NO\n' "$xml"
} | doxygen - >/dev/null 2>"$log"
status=$?

# Doxygen names files by absolute path (shortened here to the source tree's), may say
# the same thing twice (once per output format) and continues a warning on lines that
# start with spaces: one line per problem, each once.
problems=$(sed -e "s#^$src/##" "$log" |
	awk '/^ / { line = line " " $0; next } { if (line != "") print line; line = $0 }
	     END { if (line != "") print line }' | awk '!seen[$0]++')

# What Doxygen 1.9.4 does not check, from its XML: every enum value has a description,
# and every function-pointer typedef (the class ops) that returns a value says what.
xml_problems=$(python3 - "$xml" "$src" <<'PY'
import glob, os, re, sys
import xml.etree.ElementTree as ET
xml_dir, src = sys.argv[1], sys.argv[2]

def where(member, name):
    """FILE:LINE of member (or, given a name, of the first line at or after it naming it)."""
    loc = member.find("location")
    path, line = loc.get("file"), int(loc.get("line"))
    # Paths come without their STRIP_FROM_PATH part.
    path = os.path.join("sdk/include", path) if not os.path.isabs(path) \
        else os.path.relpath(path, src)
    if name:
        try:
            with open(os.path.join(src, path)) as header:
                for number, text in enumerate(header, 1):
                    if number >= line and re.search(r"\b%s\b" % re.escape(name), text):
                        line = number
                        break
        except OSError:
            pass
    return "%s:%d" % (path, line)

def text(node):
    return "".join(node.itertext()).strip() if node is not None else ""

seen = set()
for path in sorted(glob.glob(os.path.join(xml_dir, "*.xml"))):
    for member in ET.parse(path).getroot().iter("memberdef"):
        if member.get("id") in seen:
            continue
        seen.add(member.get("id"))
        kind = member.get("kind")
        if kind == "enum":
            for value in member.findall("enumvalue"):
                if text(value.find("briefdescription")) or \
                   text(value.find("detaileddescription")):
                    continue
                name = value.findtext("name")
                print("%s: enum value %s of enum %s is not documented"
                      % (where(member, name), name, member.findtext("name")))
        elif kind == "typedef":
            ret = text(member.find("type"))
            if "(*" not in ret:
                continue
            ret = ret.split("(*")[0].strip()
            if ret == "void":
                continue
            if member.find(".//simplesect[@kind='return']") is None:
                print("%s: return type of function pointer %s is not documented"
                      % (where(member, None), member.findtext("name")))
PY
) || {
	echo "abi-reference: reading Doxygen's XML failed" >&2
	rm -rf "$out"
	exit 2
}

# A header without a @file comment is left out silently, with everything in it.
file_problems=$(for h in sdk/include/vireo/*.h; do
	page=${h##*/}
	page=${page%.h}
	page=${page//_/__} # Doxygen doubles underscores in page names
	[[ -f $out/html/${page}_8h.html ]] ||
		echo "$h:1: no @file comment: the reference leaves out this header and all it declares"
done)

if [[ -n $problems || -n $xml_problems || -n $file_problems ]]; then
	echo "abi-reference: the doc comments of the public headers have problems:"
	[[ -n $problems ]] && printf '%s\n' "$problems"
	[[ -n $xml_problems ]] && printf '%s\n' "$xml_problems"
	[[ -n $file_problems ]] && printf '%s\n' "$file_problems"
	rm -rf "$out"
	exit 1
fi
if ((status != 0)) || [[ ! -f $out/html/index.html ]]; then
	echo "abi-reference: doxygen failed (exit status $status) and wrote no" \
		"$out/html/index.html" >&2
	rm -rf "$out"
	exit 1
fi
if [[ -n $depfile ]]; then
	# The directory too: a header added to it changes its time.
	deps=("$src"/sdk/include/vireo "$src"/sdk/include/vireo/*.h "$src"/ddk-docs/reference/{Doxyfile,mainpage.md,build.sh})
	printf '%s: %s\n' "$target" "${deps[*]}" >"$depfile" || exit 2
fi
exit 0
