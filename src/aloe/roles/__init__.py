"""Every LLM role, one class each (as distilabel's ``Task``): its prompt, its messages,
its decoding, its prefill, its reader and its seeds live in one place.

| role | class | asked by |
|---|---|---|
| persona writer | :class:`~aloe.roles.persona_writer.PersonaWriter` | personas_generate |
| persona checker | :class:`~aloe.roles.persona_checker.PersonaChecker` | personas_filter (optional) |
| user simulator | :class:`~aloe.roles.simulator.UserSimulator` | trees, judge check, benchmark |
| inducer | :class:`~aloe.roles.inducer.Inducer` | trees |
| responders (hinted, plain) | :class:`~aloe.roles.responder.Responder` | trees, judge check |
| pairwise judge | :class:`~aloe.roles.pairwise_judge.PairwiseJudge` | trees, judge check |
| 1-5 judge | :class:`~aloe.roles.score_judge.ScoreJudge` | benchmark, judge check |
| chat model | :class:`~aloe.roles.chat.Chat` | benchmark (the evaluated model), ``aloe chat`` |
| recovery question | :func:`~aloe.roles.recovery.recovery_messages` | grpo (the policy answers, in the rollout) |

A call site builds the role's items and reads ``role.ask(llm, items)``
(:class:`aloe.roles.base.Role`); no other module renders a role's prompt or reads
its answer.
"""
