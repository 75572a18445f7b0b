"""Reading the inputs: face images of any format, the manifest of a data folder, the decoded-face cache, synthetic
masks, and the tables others made (FER2013's CSV, OpenFace's CSVs)."""
