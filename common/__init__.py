"""The bottom layer every package may import: paths, URL masking, errors, exit codes, upright video decoding."""
