"""The benchmarks' terminal output: a two-column table and where its JSON went."""
import os


def print_table(title, rows, json_path, root):
    width = max(len(r[0]) for r in rows)
    print(f"{title:<{width}}  value")
    print("-" * (width + 14))
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"\nJSON: {os.path.relpath(json_path, root)}")
