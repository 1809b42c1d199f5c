"""Checks the shape of Sources/MLPKit: which folders ("rooms") refer to which, with no cycle
between them, and no untyped JSON records in the tuner.

For each folder it collects the names the folder declares at top level (types, protocols,
type aliases, functions, constants) and the names its code refers to (comments and string
literals left out, string interpolations kept). Folder A depends on folder B when A's code
names something B declares. Prints each dependency with an example name, then any cycle, and
exits 1 when there is a cycle or when `[String: Any]` appears under Sources/MLPKit/Tuning.

    python Tests/Harness/rooms_check.py [SOURCES_DIR]
"""
import os, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCES = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Sources", "MLPKit")
DECLARATION = re.compile(
    r"^(?:(?:public|internal|private|fileprivate|package|final|open|indirect|nonisolated)\s+)*"
    r"(?:class|struct|enum|protocol|actor|typealias|func|let|var)\s+([A-Za-z_][A-Za-z0-9_]*)", re.M)
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def code_only(text):
    """The text with comments and string literals blanked out; interpolated code is kept."""
    out, i, n = [], 0, len(text)
    depth = []  # for each open interpolation: the parenthesis depth inside it

    def skip_string(i):
        # i is at the opening quote(s), after any '#'s.
        hashes = 0
        while text[i - 1 - hashes] == "#" if i - 1 - hashes >= 0 else False:
            hashes += 1
        triple = text.startswith('"""', i)
        quote = '"""' if triple else '"'
        close = quote + "#" * hashes
        i += len(quote)
        while i < n:
            if text.startswith(close, i):
                return i + len(close), None
            if text[i] == "\\" and text.startswith("#" * hashes + "(", i + 1):
                return i + 2 + hashes, close
            if text[i] == "\\":
                i += 2
                continue
            if not triple and text[i] == "\n":
                return i, None
            i += 1
        return n, None

    pending = []  # the closing quote of each string whose interpolation is open
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c == '"':
            j, close = skip_string(i)
            out.append(" ")
            if close:
                pending.append(close)
                depth.append(0)
            i = j
            continue
        if depth:
            if c == "(":
                depth[-1] += 1
            elif c == ")":
                if depth[-1] == 0:
                    depth.pop()
                    close = pending.pop()
                    # Back in the string: skip to its end or its next interpolation.
                    k = i + 1
                    while k < n and not text.startswith(close, k):
                        if text[k] == "\\" and text.startswith(close[1:] + "(" if close.endswith("#") else "(", k + 1):
                            break
                        if text[k] == "\\":
                            k += 2
                            continue
                        k += 1
                    if k < n and text.startswith(close, k):
                        i = k + len(close)
                    else:
                        depth.append(0)
                        pending.append(close)
                        i = k + 2
                    out.append(" ")
                    continue
                depth[-1] -= 1
        out.append(c)
        i += 1
    return "".join(out)


def main():
    rooms = sorted(d for d in os.listdir(SOURCES) if os.path.isdir(os.path.join(SOURCES, d)))
    declared, codes = {}, {}
    for room in rooms:
        folder = os.path.join(SOURCES, room)
        text = ""
        for dirpath, _, files in os.walk(folder):
            for name in sorted(files):
                if name.endswith(".swift"):
                    with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                        text += code_only(f.read()) + "\n"
        codes[room] = text
        for match in DECLARATION.finditer(text):
            declared.setdefault(match.group(1), set()).add(room)
    edges = {room: {} for room in rooms}
    for room in rooms:
        for word in set(IDENTIFIER.findall(codes[room])):
            for owner in declared.get(word, ()):
                if owner != room and len(declared[word]) == 1:
                    edges[room].setdefault(owner, []).append(word)
    for room in rooms:
        for owner, words in sorted(edges[room].items()):
            print(f"{room} -> {owner}: {', '.join(sorted(words)[:6])}{' ...' if len(words) > 6 else ''}")
    # Tarjan's strongly connected components: a component of more than one room is a cycle.
    index, low, stack, on_stack, components, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            components.append(component)

    for room in rooms:
        if room not in index:
            visit(room)
    cycles = [sorted(c) for c in components if len(c) > 1]
    problems = 0
    for cycle in cycles:
        problems += 1
        print("cycle: " + " <-> ".join(cycle))
    tuning = os.path.join(SOURCES, "Tuning")
    for dirpath, _, files in os.walk(tuning):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    if "[String: Any]" in code_only(line):
                        problems += 1
                        print(f"untyped record: {os.path.relpath(path, ROOT)}:{number}: {line.strip()}")
    print(f"rooms check: {len(rooms)} folders, {sum(len(e) for e in edges.values())} dependencies, "
          f"{len(cycles)} cycles, {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
