"""A tiny skills corpus shaped like skill2vec_50K.csv.gz: three fields, HTML entities, contact cells, repeats."""

from __future__ import annotations

import csv
import gzip
import random

FIELDS = {
    "web": ["php", "laravel", "codeigniter", "mysql", "html", "css", "javascript", "jquery", "core php"],
    "marketing": ["seo", "sem", "smo", "ppc", "digital marketing", "google adwords", "content writing"],
    "accounts": ["tally", "accounts", "taxation", "tds", "accounts payable", "bank reconciliation", "audit"],
}
NOISE = ["call nisha 8750023434", "9599297239", "hr@example.com", "r&amp;d", "  Core   PHP ", "P &amp; L"]


def write_skills_csv(path, postings: int = 400, seed: int = 0) -> None:
    """Rows ``job_id,skill,...`` padded with trailing commas, like the real file."""
    rng = random.Random(seed)
    with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        for job in range(postings):
            field = rng.choice(sorted(FIELDS))
            skills = rng.sample(FIELDS[field], 5) + ([rng.choice(NOISE)] if job % 3 == 0 else [])
            writer.writerow([job, *skills, *[""] * 10])
        writer.writerow([postings, *FIELDS["web"][:5], *[""] * 10])  # a repeated posting
        writer.writerow([postings + 1, *FIELDS["web"][:5][::-1]])  # the same skills in another order


def smoke_train(data_dir, out_root, model: str = "all") -> None:
    from trainers import skills

    skills.main(["--smoke", "--model", model, "--data-dir", str(data_dir), "--out", str(out_root)])
