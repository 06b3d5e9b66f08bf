from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class TrivialIngestView(APIView):
    """The floor for `ingest_per_s`: the same server, authentication, throttle and
    JSON parsing as `POST /api/v1/events/`, and no work at all behind it."""

    permission_classes = [IsAuthenticated]

    def post(self, request):
        body = request.data
        return Response({"type": body.get("type"), "source": body.get("source")}, status=status.HTTP_201_CREATED)
