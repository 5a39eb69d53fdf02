"""Score model families: regressors of a question's score from what is known at posting time."""
