"""Reading judges: verdicts and scores as judges write them, the probabilities at
the token where they wrote them, and the label rule that turns two orders into a
preference or a tie."""
