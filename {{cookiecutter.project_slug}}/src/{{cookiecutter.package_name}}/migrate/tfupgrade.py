"""TensorFlow's tf_upgrade_v2, one source at a time, so that one source it cannot handle costs only itself.

Run as a script by the Python that has TensorFlow (the stack's .venv), standard library and TensorFlow
only: it reads [{"name": ..., "text": ...}] as JSON on stdin and prints [{"name", "text" (null when
not upgraded), "error" ("" or the tool's reason), "report"}]. `name` is the path in the legacy project
(with the cell for a notebook): the report cites it, never a temporary folder. tf_upgrade_v2's own
command line upgrades a whole tree and stops at the first source its parser (pasta) cannot handle.
"""

import json
import sys


def upgrade(upgrader, name: str, text: str) -> dict:
    try:
        processed, new_text, logs, errors = upgrader.update_string_pasta(text, name)
    except Exception as error:  # pasta raises its own errors (AnnotationError, ...)
        reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".rstrip(": ")
        return {"name": name, "text": None, "error": reason, "report": f"{name}: not upgraded ({reason})\n"}
    if not processed:
        reason = (logs[0].splitlines()[-1] if logs else "it does not parse").strip()
        return {"name": name, "text": None, "error": reason, "report": f"{name}: not upgraded ({reason})\n"}
    entries = dict.fromkeys(f"{name}:{entry}" if entry[:1].isdigit() else entry for entry in logs + errors)
    report = "".join(entry.strip().replace("\n", "\n    ") + "\n" for entry in entries)  # continuations indented
    return {"name": name, "text": new_text, "error": "", "report": report}


def main() -> None:
    from tensorflow.tools.compatibility import ast_edits, tf_upgrade_v2

    # the options of tf_upgrade_v2's command line by default
    spec = tf_upgrade_v2.TFAPIChangeSpec(import_rename=False, upgrade_compat_v1_import=True)
    upgrader = ast_edits.ASTCodeUpgrader(spec)
    jobs = json.load(sys.stdin)
    out, sys.stdout = sys.stdout, sys.stderr  # the upgrader prints its log: stdout carries only the answer
    results = [upgrade(upgrader, job["name"], job["text"]) for job in jobs]
    out.write(json.dumps(results))


if __name__ == "__main__":
    main()
