"""The one tokenizer fix-up every loader needs: a pad token (many chat models ship
without one; batching and training pad) and a chat template (every ALOE role is a chat)."""

from __future__ import annotations

from aloe.errors import AloeError


def prepare_tokenizer(tokenizer, where: str):
    """Give ``tokenizer`` a pad token (its EOS) if it has none; refuse one without a chat
    template. ``where`` names the model or params key in the error."""
    if not getattr(tokenizer, "chat_template", None):
        raise AloeError(
            f"{where} has no chat template; every ALOE role is a chat. Use an instruct/chat model or "
            "add chat_template to its tokenizer_config.json"
        )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
