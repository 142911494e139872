#!/usr/bin/env python3
"""Writes the benchmark inputs shared by Rust, Python and Node.

- bench/inputs/approved.json: Gu1's "Example: approved" body from
  biometric-events.txt, byte for byte (the lines from its opening `{` to its
  closing `}`, joined with `\\n`, no trailing newline).
- bench/inputs/large-64k.json: the same envelope with a large `decision`
  object (per-frame liveness scores), exactly 65,536 bytes.

Both files are committed, so the benchmarks never need shared/ at run time.
Run it again only to regenerate them:

    python3 bench/make_inputs.py [path/to/biometric-events.txt]
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LARGE_SIZE = 64 * 1024


def approved_example(text):
    lines = text.split("\n")
    start = lines.index("Example: approved")
    first = next(i for i in range(start, len(lines)) if lines[i] == "{")
    last = next(i for i in range(first, len(lines)) if lines[i] == "}")
    return "\n".join(lines[first : last + 1])


def large_body(approved):
    doc = json.loads(approved)
    decision = doc["payload"]["decision"]
    frames = []
    i = 0
    # Grow per-frame results until the body is close to 64 KiB, then pad a
    # string field so that it is exactly 64 KiB.
    while True:
        frames.append(
            {
                "frame": i,
                "liveness": round(90 + (i * 7 % 100) / 10, 1),
                "faceMatch": round(95 + (i * 3 % 50) / 10, 1),
                "mediaKey": f"media/bio-session-uuid/frame-{i:05d}.jpg",
            }
        )
        i += 1
        decision["frames"] = frames
        decision["note"] = ""
        if len(json.dumps(doc, indent=2)) > LARGE_SIZE - 200:
            break
    body = json.dumps(doc, indent=2)
    decision["note"] = "x" * (LARGE_SIZE - len(body))
    body = json.dumps(doc, indent=2)
    assert len(body.encode()) == LARGE_SIZE, len(body)
    return body


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else None
    candidates = [source] if source else [
        "/work/shared/gu1/biometric-events.txt",
        os.path.join(HERE, "..", "..", "shared", "gu1", "biometric-events.txt"),
    ]
    path = next((p for p in candidates if p and os.path.exists(p)), None)
    if path is None:
        sys.exit("biometric-events.txt not found; pass its path")
    with open(path, encoding="utf-8") as f:
        approved = approved_example(f.read())
    json.loads(approved)
    out = os.path.join(HERE, "inputs")
    os.makedirs(out, exist_ok=True)
    for name, body in [("approved.json", approved), ("large-64k.json", large_body(approved))]:
        with open(os.path.join(out, name), "w", encoding="utf-8", newline="") as f:
            f.write(body)
        print(f"{name}: {len(body.encode())} bytes")


if __name__ == "__main__":
    main()
