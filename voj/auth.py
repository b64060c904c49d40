"""Token endpoints: login, refresh and the signed-in user. Tokens are stateless JWTs."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView


class UserOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    is_staff = serializers.BooleanField()
    groups = serializers.SerializerMethodField()

    def get_groups(self, user: Any) -> list[str]:
        return sorted(group.name for group in user.groups.all())


class LoginOut(serializers.Serializer):
    access = serializers.CharField(help_text="Access token (JWT): send as `Authorization: Bearer`.")
    refresh = serializers.CharField(help_text="Refresh token (JWT): POST it to auth/refresh.")
    user = UserOut()


class RefreshOut(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField(
        required=False, help_text="A new refresh token, when refresh tokens rotate."
    )


class LoginSerializer(TokenObtainPairSerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        data = super().validate(attrs)
        data["user"] = UserOut(self.user).data
        return data


@extend_schema_view(post=extend_schema(responses={200: LoginOut}))
class LoginApi(TokenObtainPairView):
    serializer_class = LoginSerializer
    permission_classes = [AllowAny]
    authentication_classes: list = []


@extend_schema_view(post=extend_schema(responses={200: RefreshOut}))
class RefreshApi(TokenRefreshView):
    permission_classes = [AllowAny]
    authentication_classes: list = []


class MeApi(APIView):
    @extend_schema(responses=UserOut)
    def get(self, request: Request) -> Response:
        return Response(UserOut(request.user).data)
