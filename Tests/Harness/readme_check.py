"""Runs the README's examples as written, as a user would: from a fresh folder outside the
repository, with the built tools on PATH and Keras's dataset cache in a fresh home holding the
small CIFAR-format fixture and a small mnist.npz (so the commands without --data find data there,
as they would find CIFAR-100), and the photo folder of Tools/photo_folder.py in the folder.

Every `mlp-*` line of the README's `sh` blocks runs, in README order, in one folder (later
examples use the files earlier ones wrote); a line ending in `&` runs beside the next one, as
the two-worker example asks. The space JSON the README shows is written to space.json. Skipped,
each for the reason printed: the set-up lines (Scripts/, swift build) and mlp-bench (minutes on
50,000 images, with Keras beside it). Fails on the first command that exits non-zero or writes
a file the README names under another format than its extension says.

    python Tests/Harness/readme_check.py BIN_FOLDER [--keep FOLDER]

--keep copies the charts the examples drew (SVG) into FOLDER, to be looked at.

Then the sample outputs: each plain ``` block of the README made of `$ mlp-…` lines and what they
printed is run again, its commands in order in a fresh folder of the same data, and what they
print now is compared with the block line by line, leaving out what depends on the machine, the
clock or the data: progress bars, numbers, absolute paths, dates, digests, a plural after a number,
and how many items a list of like items holds. A line `...` or `…` in a block stands for any lines. A line printed now that the README
lacks, or one the README shows that is no longer printed, fails the check: the README's samples
are the tools' current output.
"""
import os, re, shutil, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Fixtures")


def commands(readme):
    """The README's example commands, in order, each with whether it runs in the background."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", readme, flags=re.S):
        lines = block.replace("\\\n", " ").splitlines()
        for line in lines:
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command.startswith("mlp-"):
                found.append(command)
    return found


# The README's study database: here a fresh database on the test server (MLP_TEST_POSTGRES),
# else an SQLite file in the working folder.
STUDY_URL = "postgresql://tuner@db.example/study"


def study_url(work):
    if not os.environ.get("MLP_TEST_POSTGRES"):
        return f"sqlite:///{work}/study.db"
    import uuid
    from harness import postgres_database
    return postgres_database(f"readme_{uuid.uuid4().hex[:8]}")


def samples(readme):
    """The README's sample outputs: (command, the lines it printed) for each `$ mlp-…` line of a
    plain ``` block, in README order."""
    blocks, current = [], None
    for line in readme.splitlines():
        if line.startswith("```"):
            if current is None:
                current = [] if line == "```" else ["(not plain)"]
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    found = []
    for lines in blocks:
        if not lines or not lines[0].startswith("$ mlp-"):
            continue
        for line in lines:
            if line.startswith("$ "):
                found.append((line[2:], []))
            else:
                found[-1][1].append(line)
    return found


ELIDED = {"...", "…"}


def skeleton(line):
    """A line without what depends on the machine, the clock or the data."""
    if re.match(r"engine\s", line):
        return "engine (this machine's)"
    line = re.sub(r"(?<![\w.])/[^\s,;:()]+", "<path>", line)
    line = re.sub(r"\b[0-9a-f]{16,}\b…?", "<digest>", line)
    line = re.sub(r"\d{4}-\d\d-\d\dT[\d:]+Z", "<date>", line)
    line = re.sub(r"[-+]?(\d+(,\d{3})*(\.\d*)?|\.\d+)(e[-+]?\d+)?", "#", line)
    line = re.sub(r"(#[^\w#]*\w+?)(es|s)\b", r"\1", line)
    # A list whose length follows the data ("1: 40, 2: 12, 3: 5"; a set's classes; a front's
    # trials, each with its values in parentheses): one item, however many it holds.
    line = re.sub(r"([^,{}\[\]()]+)(, \1)+", r"\1, …", line)
    line = re.sub(r"\([^()]*\)", lambda m: m.group(0).replace(", ", "; "), line)
    line = re.sub(r"([^,{}\[\]]+)(, \1)+", r"\1, …", line).replace(", …", "").replace("; …", "")
    return re.sub(r"\s+", " ", line).strip()


def shown(lines):
    """The lines compared: neither blank nor a progress bar."""
    return [line for line in lines if line.strip() and "━" not in line]


def matches(expected, actual):
    """Whether `actual` (skeletons) is `expected` (skeletons, ELIDED for any lines); else the
    first expected line that has no match."""
    def walk(i, j):
        if i == len(expected):
            return None if j == len(actual) else f"printed now, not in the README: {actual[j]!r}"
        if expected[i] in ELIDED:
            best = None
            for k in range(j, len(actual) + 1):
                miss = walk(i + 1, k)
                if miss is None:
                    return None
                best = best or miss
            return best
        if j < len(actual) and expected[i] == actual[j]:
            return walk(i + 1, j + 1)
        return f"in the README, not printed now: {expected[i]!r}" + (f" (printed: {actual[j]!r})" if j < len(actual) else "")
    return walk(0, 0)


def check_samples(readme, env, make_folder):
    """Runs the README's sample commands in a fresh folder and compares their output."""
    failures, compared = [], 0
    work = make_folder()
    for command, lines in samples(readme):
        result = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            failures.append(f"sample {command}: exit {result.returncode}: {result.stderr.strip()[-300:]}")
            print(f"FAIL sample {command}\n     {result.stderr.strip()[-300:]}")
            continue
        expected = [line.strip() if line.strip() in ELIDED else skeleton(line) for line in shown(lines)]
        miss = matches(expected, [skeleton(line) for line in shown(result.stdout.splitlines())])
        compared += 1
        if miss:
            failures.append(f"sample {command}: {miss}")
            print(f"FAIL sample {command}\n     {miss}")
        else:
            print(f"ok   sample {command}: {len(expected)} lines as the README shows them")
    return failures, compared


def space_json(readme):
    match = re.search(r"`(\{\"learning_rate\".*?\})`", readme)
    assert match, "the README shows no space JSON"
    return match.group(1)


def main():
    binaries = os.path.abspath(sys.argv[1])
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    examples = commands(readme)
    assert len(examples) >= 15, f"only {len(examples)} examples found in the README"
    with tempfile.TemporaryDirectory() as tmp:
        home, work = os.path.join(tmp, "home"), os.path.join(tmp, "work")
        os.makedirs(os.path.join(home, ".keras", "datasets"))
        shutil.copy(os.path.join(FIXTURES, "cifar", "cifar-100-python.tar.gz"), os.path.join(home, ".keras", "datasets"))

        def make_folder(name="work"):
            """A working folder with the README's data: the archives, Models/, space.json and the
            photo folder of the "Your own data" example, as Tools/photo_folder.py writes it."""
            folder = os.path.join(tmp, name)
            os.makedirs(folder)
            for archive in ("cifar-100-python.tar.gz", "cifar-100-binary.tar.gz"):
                shutil.copy(os.path.join(FIXTURES, "cifar", archive), folder)
            os.symlink(os.path.join(ROOT, "Models"), os.path.join(folder, "Models"))
            with open(os.path.join(folder, "space.json"), "w") as f:
                f.write(space_json(readme))
            subprocess.run([sys.executable, os.path.join(ROOT, "Tools", "photo_folder.py"), folder], check=True)
            return folder

        make_folder()
        # A small mnist.npz where Keras keeps MNIST.
        import numpy as np
        rng = np.random.default_rng(0)
        np.savez(os.path.join(home, ".keras", "datasets", "mnist.npz"),
                 x_train=rng.integers(0, 256, (200, 28, 28), dtype=np.uint8), y_train=rng.integers(0, 10, 200).astype(np.uint8),
                 x_test=rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), y_test=rng.integers(0, 10, 50).astype(np.uint8))
        env = dict(os.environ, PATH=binaries + os.pathsep + os.environ["PATH"], HOME=home,
                   MLP_CIFAR100_URL="http://127.0.0.1:9/no-download.tar.gz")
        env.pop("KERAS_HOME", None)
        failures, ran, skipped = [], 0, []
        pending = None
        database = study_url(work)
        for command in examples:
            command = command.replace(STUDY_URL, database)
            if command.startswith("mlp-bench"):
                skipped.append(command)
                continue
            if command.endswith("&"):
                pending = command[:-1].strip()
                continue
            script = f"{pending} & {command}; status=$?; wait $! || exit 1; exit $status" if pending else command
            pending = None
            result = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=900)
            ran += 1
            if result.returncode != 0:
                failures.append(f"{script}: exit {result.returncode}: {result.stderr.strip()[-400:]}")
                print(f"FAIL {script}\n     {result.stderr.strip()[-400:]}")
            else:
                print(f"ok   {script}")
        for path, magic in (("roc.svg", b"<svg"), ("h.svg", b"<svg"), ("p.npy", b"\x93NUMPY"), ("model.h5", b"\x89HDF")):
            full = os.path.join(work, path)
            if os.path.exists(full):
                with open(full, "rb") as f:
                    if not f.read(4096).lstrip().startswith(magic):
                        failures.append(f"{path} is not what its extension says")
        if keep:
            os.makedirs(keep, exist_ok=True)
            for root, _, names in os.walk(work):
                for name in names:
                    if name.endswith(".svg"):
                        relative = os.path.relpath(os.path.join(root, name), work).replace(os.sep, "-")
                        shutil.copy(os.path.join(root, name), os.path.join(keep, relative))
        sample_failures, compared = check_samples(readme, env, lambda: make_folder("samples"))
        failures += sample_failures
        assert compared >= 5, f"only {compared} sample outputs compared"
        for command in skipped:
            print(f"skip {command} (the benchmark: minutes on 50,000 images, with Keras beside it)")
        print(f"README examples: {ran} ran, {len(failures)} failed, {len(skipped)} skipped; {compared} sample outputs compared")
        sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
