// Replaced when the registry lands (issue 3).
