"""Instructor-side grading tools (students never need this package)."""
