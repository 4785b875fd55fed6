"""Data formats read and written by pbcount: e-vote JSON lines, pabulib .pb, result CSVs, the bundle."""
