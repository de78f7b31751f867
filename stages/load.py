"""Stage `load`: read and validate the CSV, then write a seeded train/test split.

    python -m stages.load --train data/prepared/train.csv --test data/prepared/test.csv
    (optional: --summary metrics/data.json, the split's facts and warnings as JSON)

Reads bytes, not assumptions (project/table.py): UTF-8 only, every file named as what it is; ambiguous
tables refused, never guessed; names that would be markup, a control, a spreadsheet formula or a
look-alike of another refused; every cell of every column a finite number (the splits copy every
column). Every message names the file, the line and the column as the user's editor shows them.

Data that loads but would mislead is said, not refused (stages/split_facts.py): a `warning: load: ...`
line on stderr for test rows that copy training rows, more features than training rows, and values far
outside the rest of their column. ``--summary`` writes these facts as JSON.
"""

import sys
from operator import itemgetter
from pathlib import Path

from project.files import write_json
from project.params import read_params
from project.splits import write_split
from project.table import read_table
from stages.cli import path_option, stage_main, stage_parser
from stages.split import check_columns, check_training_split, split_rows
from stages.split_facts import split_facts

READS = ["seed", "data.csv", "data.target", "data.features", "data.test_size"]


@stage_main
def main(argv=None):
    parser = stage_parser(__doc__, READS)
    path_option(parser, "train", "the training split to write (CSV)")
    path_option(parser, "test", "the held-out split to write (CSV)")
    parser.add_argument("--summary", type=Path, metavar="PATH",
                        help="a JSON file of the split's facts and warnings (rows, shared_rows, outliers, ...)")
    args = parser.parse_args(argv)
    params = read_params(args.params, keys=READS)
    data = params["data"]
    table = read_table(data["csv"])
    check_columns(table, data)
    train, test = split_rows(len(table), data["test_size"], params["seed"])
    check_training_split(table, data, train)
    facts, warnings = split_facts(table, data, train, test)
    for path, rows in ((args.train, train), (args.test, test)):  # everything is validated and computed: now write
        write_split(path, table.names, itemgetter(*rows.tolist())(table.rows) if len(rows) > 1 else
                    [table.rows[row] for row in rows.tolist()], table.quoted)
    if args.summary:
        write_json(args.summary, {"details": {"split": facts}})
    for warning in warnings:
        print(f"warning: load: {warning}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
