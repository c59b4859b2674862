using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Zhongtai.Events;

/// <summary>
/// The binary encoding of an <see cref="Event"/> in the log, for events built in-process (served lists logged back as
/// exposures, importers, the demo world): smaller than JSON, written without a serializer and read back without
/// materialising what a reader does not need. Events received as JSON stay JSON in the log; <see cref="Ingest.EventCodec"/>
/// reads both. A JSON record starts with <c>{</c> or white space, a binary one with <see cref="Marker"/>.
/// <para>
/// Layout (little-endian): marker 0x01, type code (0: the type's name follows as a string), u32 field flags, i64 UTC
/// ticks, i16 offset minutes, then each present field in flag order. Strings are a 7-bit varint byte length and UTF-8;
/// position i32, value f64, deleted one byte, tags a varint count of strings; properties, attributes and turns are
/// their JSON (a varint length, then the bytes), so they decode exactly as from a JSON record.
/// </para>
/// </summary>
public static class EventBinary
{
    public const byte Marker = 0x01;

    /// <summary>The type code of <c>exposure</c> (the second byte of its record).</summary>
    public const byte ExposureCode = 1;

    private static readonly string[] TypeCodes =
    [
        "", EventTypes.Exposure, EventTypes.Click, EventTypes.Like, EventTypes.Share, EventTypes.Purchase, EventTypes.Dwell,
        EventTypes.Rating, EventTypes.Tag, EventTypes.Item, EventTypes.User, EventTypes.Conversation,
    ];

    [Flags]
    private enum Fields : uint
    {
        Id = 1 << 0,
        UserId = 1 << 1,
        ItemId = 1 << 2,
        Scene = 1 << 3,
        RequestId = 1 << 4,
        Device = 1 << 5,
        Ip = 1 << 6,
        UserAgent = 1 << 7,
        Title = 1 << 8,
        Text = 1 << 9,
        Category = 1 << 10,
        SessionId = 1 << 11,
        Model = 1 << 12,
        Feedback = 1 << 13,
        Position = 1 << 14,
        Value = 1 << 15,
        Deleted = 1 << 16,
        Tags = 1 << 17,
        Properties = 1 << 18,
        Attributes = 1 << 19,
        Turns = 1 << 20,
    }

    /// <summary>The type name of a type code (null for 0, "the name follows", or an unknown code).</summary>
    internal static string? TypeName(byte code) => code > 0 && code < TypeCodes.Length ? TypeCodes[code] : null;

    /// <summary>True when <paramref name="payload"/> is a binary record.</summary>
    public static bool IsBinary(ReadOnlySpan<byte> payload) => payload.Length > 0 && payload[0] == Marker;

    /// <summary>Appends the binary record of <paramref name="e"/>.</summary>
    public static void Write(IBufferWriter<byte> output, Event e)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(e);
        var flags = Flag(e.Id, Fields.Id) | Flag(e.UserId, Fields.UserId) | Flag(e.ItemId, Fields.ItemId) | Flag(e.Scene, Fields.Scene)
            | Flag(e.RequestId, Fields.RequestId) | Flag(e.Device, Fields.Device) | Flag(e.Ip, Fields.Ip) | Flag(e.UserAgent, Fields.UserAgent)
            | Flag(e.Title, Fields.Title) | Flag(e.Text, Fields.Text) | Flag(e.Category, Fields.Category) | Flag(e.SessionId, Fields.SessionId)
            | Flag(e.Model, Fields.Model) | Flag(e.Feedback, Fields.Feedback) | (e.Position is null ? 0 : Fields.Position)
            | (e.Value is null ? 0 : Fields.Value) | (e.Deleted is null ? 0 : Fields.Deleted) | Flag(e.Tags, Fields.Tags)
            | Flag(e.Properties, Fields.Properties) | Flag(e.Attributes, Fields.Attributes) | Flag(e.Turns, Fields.Turns);
        var w = new Writer(output);
        var code = Array.IndexOf(TypeCodes, e.Type, 1);
        w.Header(code < 0 ? (byte)0 : (byte)code, (uint)flags, e.Timestamp);
        if (code < 0)
        {
            w.String(e.Type);
        }

        w.StringIf(e.Id);
        w.StringIf(e.UserId);
        w.StringIf(e.ItemId);
        w.StringIf(e.Scene);
        w.StringIf(e.RequestId);
        w.StringIf(e.Device);
        w.StringIf(e.Ip);
        w.StringIf(e.UserAgent);
        w.StringIf(e.Title);
        w.StringIf(e.Text);
        w.StringIf(e.Category);
        w.StringIf(e.SessionId);
        w.StringIf(e.Model);
        w.StringIf(e.Feedback);
        if (e.Position is { } position)
        {
            w.Int32(position);
        }

        if (e.Value is { } value)
        {
            w.Double(value);
        }

        if (e.Deleted is { } deleted)
        {
            w.Byte(deleted ? (byte)1 : (byte)0);
        }

        if (e.Tags is { } tags)
        {
            w.VarUInt((uint)tags.Length);
            foreach (var tag in tags)
            {
                w.String(tag);
            }
        }

        if (e.Properties is { } properties)
        {
            w.Json(JsonSerializer.SerializeToUtf8Bytes(properties, EventJsonContext.Default.DictionaryStringJsonElement));
        }

        if (e.Attributes is { } attributes)
        {
            w.Json(JsonSerializer.SerializeToUtf8Bytes(attributes, EventJsonContext.Default.DictionaryStringJsonElement));
        }

        if (e.Turns is { } turns)
        {
            w.Json(JsonSerializer.SerializeToUtf8Bytes(turns, EventJsonContext.Default.ConversationTurnArray));
        }
    }

    /// <summary>
    /// Appends an <c>exposure</c> record straight from its fields, without an <see cref="Event"/>: what serving logs for
    /// every item of a served list. <paramref name="properties"/> is the JSON object of its properties (or empty).
    /// </summary>
    public static void WriteExposure(IBufferWriter<byte> output, string userId, string itemId, string? scene, int position, string requestId,
        string? device, DateTimeOffset timestamp, ReadOnlySpan<byte> properties)
    {
        var flags = Fields.UserId | Fields.ItemId | Flag(scene, Fields.Scene) | Fields.RequestId | Flag(device, Fields.Device) | Fields.Position
            | (properties.IsEmpty ? 0 : Fields.Properties);
        var w = new Writer(output);
        w.Header(ExposureCode, (uint)flags, timestamp);
        w.String(userId);
        w.String(itemId);
        w.StringIf(scene);
        w.String(requestId);
        w.StringIf(device);
        w.Int32(position);
        if (!properties.IsEmpty)
        {
            w.Json(properties);
        }
    }

    /// <summary>Decodes a binary record whole.</summary>
    public static Event Read(ReadOnlySpan<byte> payload)
    {
        var e = new Event();
        ReadInto(payload, e, null, structured: true);
        return e;
    }

    /// <summary>
    /// Decodes a binary record into <paramref name="e"/>, setting every field. Identifiers that repeat (user, item,
    /// scene, device, category) come from <paramref name="strings"/> when given, so a follower that reads millions of exposures does not
    /// allocate the same strings again; with <paramref name="structured"/> false the properties, attributes and turns
    /// are left null (their JSON is skipped).
    /// </summary>
    public static void ReadInto(ReadOnlySpan<byte> payload, Event e, Utf8StringCache? strings, bool structured)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!IsBinary(payload))
        {
            throw new JsonException("Not a binary event.");
        }

        var r = new Reader(payload[1..], strings);
        var code = r.Byte();
        var flags = (Fields)r.UInt32();
        var ticks = r.Int64();
        var offsetMinutes = r.Int16();
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks || Math.Abs((int)offsetMinutes) > 14 * 60)
        {
            throw new JsonException("A binary event has a timestamp out of range.");
        }

        e.Timestamp = new DateTimeOffset(ticks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(offsetMinutes));
        e.Type = code == 0 ? r.String(cached: true) : code < TypeCodes.Length ? TypeCodes[code] : throw new JsonException($"Unknown binary event type code {code}.");
        // Fields that are not worth caching (new with every request or event) still repeat from one record to the next
        // (the exposures of one served list share their request id): the value already in the event is kept when the
        // bytes are the same, so a follower reusing one Event allocates once per list, not once per item.
        e.Id = Has(flags, Fields.Id) ? r.String(cached: false) : null;
        e.UserId = Has(flags, Fields.UserId) ? r.String(cached: true) : null;
        e.ItemId = Has(flags, Fields.ItemId) ? r.String(cached: true) : null;
        e.Scene = Has(flags, Fields.Scene) ? r.String(cached: true) : null;
        e.RequestId = Has(flags, Fields.RequestId) ? r.String(e.RequestId) : null; // new with every list: caching it would only make survivors
        e.Device = Has(flags, Fields.Device) ? r.String(cached: true) : null;
        e.Ip = Has(flags, Fields.Ip) ? r.String(cached: false) : null;
        e.UserAgent = Has(flags, Fields.UserAgent) ? r.String(cached: false) : null;
        e.Title = Has(flags, Fields.Title) ? r.String(cached: false) : null;
        e.Text = Has(flags, Fields.Text) ? r.String(cached: false) : null;
        e.Category = Has(flags, Fields.Category) ? r.String(cached: true) : null;
        e.SessionId = Has(flags, Fields.SessionId) ? r.String(e.SessionId) : null;
        e.Model = Has(flags, Fields.Model) ? r.String(e.Model) : null;
        e.Feedback = Has(flags, Fields.Feedback) ? r.String(cached: false) : null;
        e.Position = Has(flags, Fields.Position) ? r.Int32() : null;
        e.Value = Has(flags, Fields.Value) ? r.Double() : null;
        e.Deleted = Has(flags, Fields.Deleted) ? r.Byte() != 0 : null;
        if (Has(flags, Fields.Tags))
        {
            var tags = new string[r.Count()];
            for (var i = 0; i < tags.Length; i++)
            {
                tags[i] = r.String(cached: false);
            }

            e.Tags = tags;
        }
        else
        {
            e.Tags = null;
        }

        e.Properties = Has(flags, Fields.Properties) ? Structured(r.Json(), structured, EventJsonContext.Default.DictionaryStringJsonElement) : null;
        e.Attributes = Has(flags, Fields.Attributes) ? Structured(r.Json(), structured, EventJsonContext.Default.DictionaryStringJsonElement) : null;
        e.Turns = Has(flags, Fields.Turns) ? Structured(r.Json(), structured, EventJsonContext.Default.ConversationTurnArray) : null;
        r.End();
    }

    private static T? Structured<T>(ReadOnlySpan<byte> json, bool decode, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) where T : class =>
        decode ? JsonSerializer.Deserialize(json, info) ?? throw new JsonException("A binary event holds a null structured field.") : null;

    private static bool Has(Fields flags, Fields field) => (flags & field) != 0;

    private static Fields Flag(object? value, Fields field) => value is null ? 0 : field;

    private ref struct Writer(IBufferWriter<byte> output)
    {
        public readonly void Header(byte code, uint flags, DateTimeOffset timestamp)
        {
            var span = output.GetSpan(16);
            span[0] = Marker;
            span[1] = code;
            BinaryPrimitives.WriteUInt32LittleEndian(span[2..], flags);
            BinaryPrimitives.WriteInt64LittleEndian(span[6..], timestamp.UtcTicks);
            BinaryPrimitives.WriteInt16LittleEndian(span[14..], (short)timestamp.TotalOffsetMinutes);
            output.Advance(16);
        }

        public readonly void StringIf(string? value)
        {
            if (value is not null)
            {
                String(value);
            }
        }

        public readonly void String(string value)
        {
            var span = output.GetSpan(5 + Encoding.UTF8.GetMaxByteCount(value.Length));
            var length = Encoding.UTF8.GetBytes(value, span[5..]);
            var prefix = VarUIntLength((uint)length);
            if (prefix < 5)
            {
                span.Slice(5, length).CopyTo(span[prefix..]);
            }

            WriteVarUInt(span, (uint)length);
            output.Advance(prefix + length);
        }

        public readonly void Json(ReadOnlySpan<byte> json)
        {
            VarUInt((uint)json.Length);
            output.Write(json);
        }

        public readonly void VarUInt(uint value)
        {
            var span = output.GetSpan(5);
            output.Advance(WriteVarUInt(span, value));
        }

        public readonly void Int32(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(output.GetSpan(4), value);
            output.Advance(4);
        }

        public readonly void Double(double value)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(output.GetSpan(8), value);
            output.Advance(8);
        }

        public readonly void Byte(byte value)
        {
            output.GetSpan(1)[0] = value;
            output.Advance(1);
        }

        private static int VarUIntLength(uint value) => value < 1 << 7 ? 1 : value < 1 << 14 ? 2 : value < 1 << 21 ? 3 : value < 1 << 28 ? 4 : 5;

        private static int WriteVarUInt(Span<byte> span, uint value)
        {
            var i = 0;
            while (value >= 0x80)
            {
                span[i++] = (byte)(value | 0x80);
                value >>= 7;
            }

            span[i++] = (byte)value;
            return i;
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> data, Utf8StringCache? strings)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public byte Byte()
        {
            Need(1);
            return _data[_position++];
        }

        public uint UInt32()
        {
            Need(4);
            var value = BinaryPrimitives.ReadUInt32LittleEndian(_data[_position..]);
            _position += 4;
            return value;
        }

        public int Int32() => (int)UInt32();

        public long Int64()
        {
            Need(8);
            var value = BinaryPrimitives.ReadInt64LittleEndian(_data[_position..]);
            _position += 8;
            return value;
        }

        public short Int16()
        {
            Need(2);
            var value = BinaryPrimitives.ReadInt16LittleEndian(_data[_position..]);
            _position += 2;
            return value;
        }

        public double Double() => BitConverter.Int64BitsToDouble(Int64());

        public int Count()
        {
            var count = VarUInt();
            return count <= (uint)(_data.Length - _position) ? (int)count : throw new JsonException("A binary event is truncated.");
        }

        public string String(bool cached)
        {
            var bytes = Span(Count());
            return cached && strings is not null ? strings.Get(bytes) : Encoding.UTF8.GetString(bytes);
        }

        /// <summary>The next string: <paramref name="previous"/> itself when it has the same text.</summary>
        public string String(string? previous)
        {
            var bytes = Span(Count());
            return Utf8StringCache.Matches(previous, bytes) ? previous! : Encoding.UTF8.GetString(bytes);
        }

        public ReadOnlySpan<byte> Json() => Span(Count());

        public readonly void End()
        {
            if (_position != _data.Length)
            {
                throw new JsonException("A binary event has trailing bytes.");
            }
        }

        private ReadOnlySpan<byte> Span(int length)
        {
            Need(length);
            var span = _data.Slice(_position, length);
            _position += length;
            return span;
        }

        private uint VarUInt()
        {
            uint value = 0;
            for (var shift = 0; shift < 35; shift += 7)
            {
                Need(1);
                var b = _data[_position++];
                value |= (uint)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw new JsonException("A binary event has a malformed length.");
        }

        private readonly void Need(int bytes)
        {
            if (bytes < 0 || _data.Length - _position < bytes)
            {
                throw new JsonException("A binary event is truncated.");
            }
        }
    }
}

/// <summary>
/// A two-way set-associative cache of strings by their UTF-8 bytes: the same identifier read again gives the same string
/// without allocating, and memory stays bounded (a third string in a set replaces the one used longer ago). A miss costs
/// one string; a churning cache costs more than it saves — each new string is referenced from the old slot array, so
/// the GC must trace and promote it — hence a large default (2^20 slots, 8 MB of references) that holds a shop's ids.
/// Not thread-safe: one per reader.
/// </summary>
public sealed class Utf8StringCache(int slots = 1 << 20)
{
    private const int MaxLength = 128;
    private readonly string?[] _slots = new string?[System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, slots))];

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxLength)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        var first = (int)(System.IO.Hashing.XxHash3.HashToUInt64(utf8) & (ulong)(_slots.Length - 2)); // even: the set is first, first + 1
        if (Matches(_slots[first], utf8))
        {
            return _slots[first]!;
        }

        if (Matches(_slots[first + 1], utf8))
        {
            (_slots[first], _slots[first + 1]) = (_slots[first + 1], _slots[first]); // most recent first
            return _slots[first]!;
        }

        var value = Encoding.UTF8.GetString(utf8);
        _slots[first + 1] = _slots[first];
        _slots[first] = value;
        return value;
    }

    internal static bool Matches(string? known, ReadOnlySpan<byte> utf8)
    {
        if (known is null || known.Length > utf8.Length)
        {
            return false; // a UTF-8 encoding is never shorter than the string's UTF-16 length
        }

        if (Ascii.IsValid(utf8))
        {
            return Ascii.Equals(utf8, known);
        }

        Span<char> chars = stackalloc char[MaxLength];
        return Encoding.UTF8.TryGetChars(utf8, chars, out var n) && chars[..n].SequenceEqual(known);
    }
}
