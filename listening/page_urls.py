from django.urls import path

from listening import page, session

urlpatterns = [
    path("", page.listen_page, name="listen"),
    path("session", session.SessionStartApi.as_view(), name="listen-session"),
    path("session/refresh", session.SessionRefreshApi.as_view(), name="listen-session-refresh"),
    path("session/end", session.SessionEndApi.as_view(), name="listen-session-end"),
]
