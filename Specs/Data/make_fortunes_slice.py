#!/usr/bin/python3
"""Regenerates the fortunes slice bundled with the app (standard library only).

Reads the classification topics from Debian's fortunes files (packages fortunes, fortunes-min install
them in /usr/share/games/fortunes), parses them as the C# loader does (quotes separated by lines holding
only '%'; empty quotes and exact duplicates across the topics dropped), keeps QUOTES_PER_TOPIC quotes of
each topic chosen by the SHA-256 of their text (a fixed choice on every machine), in file order, and writes
them in the same format to fortunes/<topic> next to this script, with the package's copyright file.

    /usr/bin/python3 Specs/Data/make_fortunes_slice.py [SOURCE_DIR]
"""
import hashlib
import os
import shutil
import sys

SOURCE = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/games/fortunes"
COPYRIGHT = "/usr/share/doc/fortunes/copyright"
TARGET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fortunes")
# Keep in step with FortunesCorpus.ClassificationTopics.
TOPICS = ["art", "computers", "definitions", "men-women", "politics", "science", "songs-poems", "work"]
QUOTES_PER_TOPIC = 300


def parse(path):
    with open(path, "rb") as f:
        raw = f.read()
    if b"\0" in raw:
        raise SystemExit(f"{path}: binary file")
    text = raw.decode("utf-8")  # strict: a bad byte stops the script
    if text.startswith("\ufeff"):
        text = text[1:]
    quotes, lines = [], []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line == "%":
            quotes.append("\n".join(lines))
            lines = []
        else:
            lines.append(line)
    quotes.append("\n".join(lines))
    return [q.rstrip("\n") for q in quotes if q.strip()]


def main():
    os.makedirs(TARGET, exist_ok=True)
    seen = set()
    for topic in TOPICS:
        quotes = []
        for quote in parse(os.path.join(SOURCE, topic)):
            if quote not in seen:
                seen.add(quote)
                quotes.append(quote)
        if len(quotes) < QUOTES_PER_TOPIC:
            raise SystemExit(f"{topic}: only {len(quotes)} quotes")
        chosen = set(sorted(range(len(quotes)), key=lambda i: hashlib.sha256(quotes[i].encode("utf-8")).hexdigest())[:QUOTES_PER_TOPIC])
        with open(os.path.join(TARGET, topic), "w", encoding="utf-8", newline="\n") as f:
            for i, quote in enumerate(quotes):
                if i in chosen:
                    f.write(quote + "\n%\n")
        print(f"{topic}: {QUOTES_PER_TOPIC} of {len(quotes)}")
    shutil.copyfile(COPYRIGHT, os.path.join(TARGET, "copyright.txt"))


if __name__ == "__main__":
    main()
