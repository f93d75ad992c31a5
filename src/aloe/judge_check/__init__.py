"""The judge check: planted pairs with a known answer, asked before any tree is grown.

For ``judge_check.pairs`` training personas P, spread over as many profiles as the
split has (:func:`spread_over_profiles`), the simulator writes P's opening message
and the responder answers it three times: told P's true profile and personality
(the *matched* reply), told those of the training persona least like P (the
*mismatched* reply, the easy difficulty), and told those of the persona most like
P with another profile (the *similar* reply, the hard difficulty). A judge that
can tell anything apart prefers the matched reply. The pairwise judge is asked
every probe of :data:`aloe.judge_check.planted.PROBES` in both orders (matched against mismatched, against
similar, the matched reply against itself plus one neutral sentence, matched
against mismatched for the contrast persona, and again on new seeds), read with
the label rule's evidence (policy ``average`` at ``judge.pairwise.margin``, whatever
``judge.pairwise.disagreement`` says, so the check measures the judge and not the
policy); the 1-5 scoring judge of the benchmark scores the three replies, and the
first two again on new seeds.

accuracy = (pairs labelled matched + half the ties) / pairs: 0.5 is a coin, 1.0
a judge that always prefers the matched reply. Intervals resample profiles. Every
figure of both judges' report cards is in :mod:`aloe.judging.card`.

Modules: :mod:`~aloe.judge_check.selection` (which personas, and their contrasts),
:mod:`~aloe.judge_check.planted` (the probes and the record of one pair),
:mod:`~aloe.judge_check.asking` (the calls), :mod:`~aloe.judge_check.report` (the
cards and the label-noise estimate), :mod:`~aloe.judge_check.candidates` (several
candidate judges side by side, ``aloe judge-card``).
"""
