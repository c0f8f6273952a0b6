"""Questions asked in rooms and notice threads, their accepted answers, and the FAQ they make."""
