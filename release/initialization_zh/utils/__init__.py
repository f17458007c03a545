"""Helpers shared by the course notebooks.

This folder is the one copy of every helper. Each assignment folder under
source/ holds a utils/ folder of symbolic links to these files, and
`nbgrader generate_assignment` turns them into real copies in release/, so
that a student who receives only the assignment folder has them too. Edit the
files here; tests/test_release.py fails when a release copy is out of date.
"""
