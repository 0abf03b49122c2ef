"""The terminal adapter behind ``quizbot play``: the worked example of an adapter."""
