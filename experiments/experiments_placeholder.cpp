// Replaced when the demo and reports land (issue 7).
