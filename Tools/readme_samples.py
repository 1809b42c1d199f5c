"""Runs the README's sample outputs again: every `$ mlp-…` line of its plain ``` blocks, in README
order, in one fresh folder that holds ARCHIVE as cifar-100-python.tar.gz (the README's figures
come from the benchmark's generated 50,000-image archive, `python Tools/cifar_sets.py --full`),
Models/, space.json and the photo folder of Tools/photo_folder.py. Prints each command and what
it printed, as the README's blocks show them, for pasting (progress bars and long runs are
shortened to `...` by hand). The built tools must be on PATH.

    python Tools/readme_samples.py ARCHIVE [--folder F]
"""
import argparse, os, shutil, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Harness"))
from readme_check import samples, space_json  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive")
    parser.add_argument("--folder", help="work here (kept) instead of a temporary folder")
    args = parser.parse_args()
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.folder or os.path.join(tmp, "work")
        os.makedirs(work, exist_ok=True)
        os.symlink(os.path.abspath(args.archive), os.path.join(work, "cifar-100-python.tar.gz"))
        os.symlink(os.path.join(ROOT, "Models"), os.path.join(work, "Models"))
        with open(os.path.join(work, "space.json"), "w") as f:
            f.write(space_json(readme))
        subprocess.run([sys.executable, os.path.join(ROOT, "Tools", "photo_folder.py"), work], check=True, stdout=subprocess.DEVNULL)
        for command, _ in samples(readme):
            result = subprocess.run(["bash", "-c", command], cwd=work, capture_output=True, text=True)
            print(f"$ {command}")
            sys.stdout.write(result.stdout)
            if result.returncode != 0:
                sys.exit(f"readme_samples.py: {command}: exit {result.returncode}: {result.stderr.strip()[-400:]}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
