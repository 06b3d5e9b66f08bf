"""The delivery engine: claim due deliveries, send them, record what happened (SPEC sections 4 and 5).

``dispatcher`` runs the claim loop; ``claims`` takes rows and gives them back; ``jobs``
copies what one attempt needs out of the database; ``send`` makes the attempt
(``transport`` for HTTP, ``envelope`` for the signed body, ``email_sender`` and
``slack_sender`` for the other kinds); ``outcome`` and ``refusals`` are the rules;
``results`` writes them; ``kick`` asks a worker to start. docs/ENGINE.md (to come) tells the whole story.
"""
