"""The one error the clinical core raises for invalid input."""


class ClinicalInputError(ValueError):
    """Input the rules cannot score or assess. Never clamped, never guessed (RULES.md §0.5).

    `code` is a stable machine word (e.g. "value_out_of_range", the words of RULES.md §8
    vectors); `item` names the item at fault; the message says what is wrong and why.
    """

    def __init__(self, code: str, message: str, *, item: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.item = item
        self.message = message
