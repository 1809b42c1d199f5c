"""Checks the shape of the sources: which folders of Sources/MLPKit ("rooms") refer to which,
with no cycle between them; and the house's numbers, for every Swift file under Sources.

For each folder it collects the names the folder declares at top level (types, protocols,
type aliases, functions, constants) and the names its code refers to (comments and string
literals left out, string interpolations kept). Folder A depends on folder B when A's code
names something B declares. Prints each dependency with an example name, then any cycle.

Then the house's numbers, each against its limit: lines of each executable (200, mlp-bench
300), lines of each function (40 in an executable, 60 elsewhere; a computed property counts as
one), lines of each other file (450), `[String: Any]` anywhere (none), and the Swift files that
import each C module (two at most: each C library is reached through thin wrappers).

Exits 1 when there is a cycle or a number is over its limit.

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


FUNCTION = re.compile(r"\b(?:func\s+[^\s(<]+|init[?!]?\s*[(<]|subscript\s*[(<]|deinit\b|(?:var|let)\s+\w+\s*:\s*[^={\n]+(?=\{))")


def functions(code):
    """(lines, first line, name) of each function, initializer, subscript and computed property
    with a body in `code` (comments and strings blanked); a nested one counts within its own."""
    found = []
    for match in FUNCTION.finditer(code):
        i, depth, n = match.end(), 0, len(code)
        while i < n:
            c = code[i]
            if c in "([":
                depth += 1
            elif c in ")]":
                depth -= 1
            elif c == "{" and depth == 0:
                break
            elif c == "\n" and depth == 0 and match.group(0).startswith(("var", "let")):
                i = n  # a stored property: no body on its line
                break
            i += 1
        if i >= n:
            continue
        between = code[match.end():i]
        # A protocol requirement has no body: the next declaration comes before any brace.
        if re.search(r"\n\s*(func|var|let|static|public|init|}|case|@)", between):
            continue
        depth, j = 0, i
        while j < n:
            if code[j] == "{":
                depth += 1
            elif code[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        first = code.count("\n", 0, match.start()) + 1
        found.append((code.count("\n", 0, j) + 1 - first + 1, first, match.group(0).split("(")[0].strip()))
    return found


def house(sources):
    """Prints the house's numbers against their limits; returns how many are over."""
    root = os.path.dirname(sources)
    executables, files, longest, anys, imports, over = [], [], {"executable": (0, ""), "library": (0, "")}, [], {}, []
    for dirpath, _, names in os.walk(sources):
        for name in sorted(names):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            code = code_only(text)
            count = text.count("\n")
            is_executable = rel.split(os.sep)[1].startswith("mlp-")
            if is_executable:
                limit = 300 if rel.split(os.sep)[1] == "mlp-bench" else 200
                executables.append((count, rel))
                if count > limit:
                    over.append(f"{rel}: {count} lines, over {limit} for an executable")
            else:
                files.append((count, rel))
                if count > 450:
                    over.append(f"{rel}: {count} lines, over 450")
            kind, limit = ("executable", 40) if is_executable else ("library", 60)
            for lines, first, what in functions(code):
                if lines > longest[kind][0]:
                    longest[kind] = (lines, f"{rel}:{first} {what}")
                if lines > limit:
                    over.append(f"{rel}:{first}: {what} is {lines} lines, over {limit}")
            for number, line in enumerate(code.split("\n"), 1):
                if "[String: Any]" in line:
                    anys.append(f"{rel}:{number}")
                imported = re.match(r"\s*(?:@_implementationOnly\s+|internal\s+|public\s+)?import\s+(C\w+)", line)
                if imported:
                    imports.setdefault(imported.group(1), []).append(rel)
    over += [f"{place}: [String: Any]" for place in anys]
    over += [f"{module} is imported by {len(paths)} files ({', '.join(paths)}), over 2" for module, paths in imports.items() if len(paths) > 2]
    widest = max(files)
    print("house: executables " + ", ".join(f"{os.path.basename(os.path.dirname(p))} {n}" for n, p in sorted(executables, reverse=True))
          + " lines (limit 200, mlp-bench 300)")
    print(f"house: longest function in an executable {longest['executable'][0]} lines ({longest['executable'][1]}; limit 40), "
          f"in the library {longest['library'][0]} lines ({longest['library'][1]}; limit 60)")
    print(f"house: longest other file {widest[0]} lines ({widest[1]}; limit 450); [String: Any] {len(anys)} times (limit 0); "
          f"C modules reached from " + ", ".join(f"{m} {len(p)}" for m, p in sorted(imports.items())) + " files (limit 2)")
    for problem in over:
        print("house: " + problem)
    return len(over)


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
    problems += house(os.path.dirname(SOURCES))
    print(f"rooms check: {len(rooms)} folders, {sum(len(e) for e in edges.values())} dependencies, "
          f"{len(cycles)} cycles, {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
