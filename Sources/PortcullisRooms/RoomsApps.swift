/// The apps this binary ships, by name (`apps:` in the config picks among them).
public enum RoomsApps {
    public static let builtIn: [String: any RoomsApp] = [
        "echo": EchoApp(),
        "socketio-reference": SocketIOReferenceApp(),
        "cable-chat": CableChatApp(),
        "shared-notifications": SharedNotificationsApp(),
        "marketplace-chat": MarketplaceChatApp(),
        "community": CommunityApp(),
        "model-activity": ModelActivityApp(),
    ]
}
