"""The clinical core: pure Python, no Django, no imports from the rest of BackCare.

Inputs and outputs are frozen dataclasses; every result carries the version of the rules or
instrument that produced it (ARCHITECTURE.md §4).
"""
