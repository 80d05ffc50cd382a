extension PublishSettings {
    /// Decodes `admin.publish:`.
    ///
    /// | Key             | Type                                        | Default  |
    /// |-----------------|---------------------------------------------|----------|
    /// | `key_file`      | file holding the bearer key (trimmed, ≥ 32 bytes of `A-Z a-z 0-9 - . _ ~ + /`, then `=`s) | required |
    /// | `max_body_size` | size, 1 KiB to 64 MiB                       | `1MiB`   |
    ///
    /// The key file is read here, so a missing, unreadable, short or malformed key is an
    /// error at `admin.publish.key_file` like any other, and a reload reads it again.
    static func decode(_ reader: ConfigReader) -> PublishSettings? {
        reader.mapping { mapping -> PublishSettings? in
            let maxBodySize = mapping.optional("max_body_size")?.size(
                in: 1024...(64 << 20), rangeText: "between 1KiB and 64MiB")
            guard let file = mapping.required("key_file"), let path = file.filePath(),
                let contents = file.contents(of: path)
            else { return nil }
            let key = String(contents.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
            guard key.utf8.count >= minimumKeyLength else {
                file.fail(
                    "the key in \(path) is \(key.utf8.count) bytes once surrounding whitespace is trimmed; "
                        + "at least \(minimumKeyLength) are needed (openssl rand -hex 32 makes a good one)")
                return nil
            }
            guard BearerTokenSyntax.isValid(key) else {
                file.fail(
                    "the key in \(path) holds characters an Authorization: Bearer header cannot carry "
                        + "(use A-Z a-z 0-9 - . _ ~ + /, then optional =)")
                return nil
            }
            var settings = PublishSettings(keyFile: path, key: key, location: reader.location)
            if let maxBodySize {
                settings.maxBodySize = maxBodySize
            }
            return settings
        } ?? nil
    }
}
