"""What a chapter does from outside Lambda, one module per source: ``helpers/<source>.py``.

Sending a batch of messages, looking inside a queue, moving messages back from a dead-letter
queue: the calls a learner would make with the AWS CLI or console, kept out of the notebooks.
The Lambda side of each source is ``sources/<source>.py``; it never imports these helpers.
"""
