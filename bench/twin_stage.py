"""One stage of the pipeline's twin: write each declared output, do no work.

    python -S -I twin_stage.py NAME --params KEY ... --deps PATH ... --outs PATH ...

Standard library only (it runs under ``python -S -I``: no site-packages, so the
start-up is the interpreter's floor). Every output's bytes are a hash of the
stage's name, the text of each params value it declares (read from the params
file by dotted key) and the bytes of each dependency, so an output changes
exactly when the real stage's inputs change, and DVC reruns downstream stages
just as it does for the real pipeline. A stage that declares a whole params
file (``FILE:*``) gets nothing from it: like check_params, its output is the
same for any valid file.

The params reader understands the YAML that ``params.yaml`` uses (nested
mappings by indentation, scalars, flow and block lists, comments). It compares
values as text, which is what a twin needs: the value changed or it did not.
An output given with a trailing ``/`` is a folder in the project (a model's
folder, the pictures): the twin writes a folder of FOLDER_FILES files there.
"""

import hashlib
import os
import sys


def strip_comment(line):
    """The line without a trailing ``# comment`` (a ``#`` at the start or after a blank)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def param_text(lines, key):
    """The text of ``key`` (dotted) in a YAML file's lines: its value and every line nested under it."""
    wanted, stack = key.split("."), []  # stack: (indent, key) of the mappings we are inside
    for number, raw in enumerate(lines):
        line = strip_comment(raw)
        if not line.strip() or line.lstrip().startswith("- "):
            continue
        indent = len(line) - len(line.lstrip())
        name, colon, value = line.strip().partition(":")
        if not colon:
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = [k for _, k in stack] + [name.strip().strip("'\"")]
        stack.append((indent, path[-1]))
        if path == wanted:
            nested = []
            for following in lines[number + 1:]:
                text = strip_comment(following)
                if not text.strip():
                    continue
                depth = len(text) - len(text.lstrip())
                if depth > indent or (depth == indent and text.lstrip().startswith("- ")):
                    nested.append(text.strip())
                else:
                    break
            return " ".join([value.strip()] + nested)
    return "<missing>"


FOLDER_FILES = 5  # a model's folder holds 3 to 7 files (models/<name>/), the plots' folders 2 to 4


def file_digest(path, digest):
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                digest.update(os.path.relpath(os.path.join(root, name), path).encode())
                file_digest(os.path.join(root, name), digest)
    elif os.path.isfile(path):
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    else:
        digest.update(b"<missing>")


def main(argv):
    name, groups, current = argv[0], {"--params": [], "--deps": [], "--outs": []}, None
    for arg in argv[1:]:
        if arg in groups:
            current = groups[arg]
        else:
            current.append(arg)
    digest = hashlib.sha256(name.encode())
    files = {}
    for spec in groups["--params"]:
        path, _, key = spec.rpartition(":")
        if key == "*":
            continue  # the whole file: validated, not read (see the docstring)
        if path not in files:
            with open(path, encoding="utf-8") as handle:
                files[path] = handle.read().splitlines()
        digest.update(f"\0{spec}={param_text(files[path], key)}".encode())
    for dep in groups["--deps"]:
        digest.update(f"\0{dep}\0".encode())
        file_digest(dep, digest)
    stamp = digest.hexdigest()
    for out in groups["--outs"]:
        if out.endswith("/"):  # a folder the project writes: a few files in it, as DVC would see the project's
            os.makedirs(out, exist_ok=True)
            for i in range(FOLDER_FILES):
                with open(os.path.join(out, "%d.txt" % i), "w", encoding="utf-8") as handle:
                    handle.write("twin\n%s\n%d\n" % (stamp, i))
            continue
        directory = os.path.dirname(out)
        if directory:
            os.makedirs(directory, exist_ok=True)
        text = '{"twin": "%s"}\n' % stamp if out.endswith(".json") else "twin\n%s\n" % stamp
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
