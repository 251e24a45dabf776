#!/usr/bin/python3
"""Cross-checks the C# bag-of-words baseline (BagOfWordsBaseline) with scikit-learn on the same split.

Reads train/valid/test.jsonl written by Specs.Text.SplitExport.WriteJsonLines, builds the same features
(torchtext's basic_english tokens, unigrams and bigrams, min_df 2, TF-IDF with scikit-learn's defaults and
unit-L2 rows), fits LogisticRegression (multinomial, L-BFGS) for each C of a small grid, picks C on the
validation split and prints the test accuracy. Not a test dependency: apt-get install python3-sklearn.

    /usr/bin/python3 Specs/Text/sklearn_baseline.py SPLIT_DIR
"""
import json
import os
import re
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

# torchtext.data.utils._basic_english_normalize, pattern for pattern.
PATTERNS = [(re.compile(p), r) for p, r in [
    (r"\'", " '  "), (r"\"", ""), (r"\.", " . "), (r"<br \/>", " "), (r",", " , "), (r"\(", " ( "),
    (r"\)", " ) "), (r"\!", " ! "), (r"\?", " ? "), (r"\;", " "), (r"\:", " "), (r"\s+", " ")]]


def basic_english(line):
    line = line.lower()
    for pattern, replacement in PATTERNS:
        line = pattern.sub(replacement, line)
    return line.split()


def read(folder, name):
    with open(os.path.join(folder, name + ".jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [r["text"] for r in rows], [r["label"] for r in rows]


def main():
    folder = sys.argv[1]
    (xtr, ytr), (xva, yva), (xte, yte) = (read(folder, n) for n in ("train", "valid", "test"))
    vectorizer = TfidfVectorizer(tokenizer=basic_english, lowercase=False, token_pattern=None, ngram_range=(1, 2), min_df=2)
    train = vectorizer.fit_transform(xtr)
    valid, test = vectorizer.transform(xva), vectorizer.transform(xte)
    print(f"{train.shape[0]} train / {valid.shape[0]} valid / {test.shape[0]} test quotes, {train.shape[1]} features")
    best = None
    for c in [1, 3, 10, 30, 100, 300]:
        model = LogisticRegression(C=c, max_iter=2000).fit(train, ytr)
        accuracy = model.score(valid, yva)
        print(f"C={c}: validation {accuracy:.4f}")
        if best is None or accuracy > best[0]:
            best = (accuracy, c, model)
    accuracy, c, model = best
    print(f"best C={c}: validation {accuracy:.4f}, test {model.score(test, yte):.4f}")


if __name__ == "__main__":
    main()
