// Replaced when data streams land (issue 4).
