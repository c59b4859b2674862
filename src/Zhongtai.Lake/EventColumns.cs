using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Zhongtai.Events;

namespace Zhongtai.Lake;

/// <summary>
/// The Parquet schema of the <c>events</c> table and a reusable column buffer that turns a batch of events into
/// one row group. JSON-valued fields (properties, attributes, turns) are stored as JSON strings; tags as list&lt;string&gt;.
/// </summary>
internal sealed class EventColumns
{
    public static readonly DataField<long> Offset = new("offset");
    public static readonly DataField<string> Id = new("id", true);
    public static readonly DataField<string> Type = new("type", true);
    public static readonly DataField<string> UserId = new("user_id", true);
    public static readonly DataField<string> ItemId = new("item_id", true);
    // Milliseconds: Parquet.Net 6 writes the row-group min/max of a micros timestamp in millis (aloneguid/parquet-dotnet#769),
    // which makes DuckDB skip every row group on a ts filter. Millis keep values and statistics in one unit.
    public static readonly DateTimeDataField Ts = new("ts", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Millis, isNullable: false);
    public static readonly DataField<string> Scene = new("scene", true);
    public static readonly DataField<int?> Position = new("position");
    public static readonly DataField<string> RequestId = new("request_id", true);
    public static readonly DataField<string> Device = new("device", true);
    public static readonly DataField<string> Ip = new("ip", true);
    public static readonly DataField<string> UserAgent = new("user_agent", true);
    public static readonly DataField<double?> Value = new("value");
    public static readonly DataField<string> Properties = new("properties", true);
    public static readonly DataField<string> Title = new("title", true);
    public static readonly DataField<string> Text = new("text", true);
    public static readonly DataField<string> Category = new("category", true);
    public static readonly DataField<string> TagElement = new("element", false);
    public static readonly ListField Tags = new("tags", TagElement);
    public static readonly DataField<string> Attributes = new("attributes", true);
    public static readonly DataField<bool?> Deleted = new("deleted");
    public static readonly DataField<string> SessionId = new("session_id", true);
    public static readonly DataField<string> Model = new("model", true);
    public static readonly DataField<string> Turns = new("turns", true);
    public static readonly DataField<string> Feedback = new("feedback", true);

    public static readonly ParquetSchema Schema = new(
        Offset, Id, Type, UserId, ItemId, Ts, Scene, Position, RequestId, Device, Ip, UserAgent, Value, Properties,
        Title, Text, Category, Tags, Attributes, Deleted, SessionId, Model, Turns, Feedback);

    /// <summary>
    /// Writer options: the given compression at its fastest level (Parquet.Net defaults to the smallest size, which
    /// makes Zstd crawl) and dictionary encoding for the repetitive string columns (Parquet.Net writes plain strings
    /// unless told).
    /// </summary>
    public static ParquetOptions WriterOptions(CompressionMethod compression, bool encodings)
    {
        var options = new ParquetOptions { CompressionMethod = compression, CompressionLevel = System.IO.Compression.CompressionLevel.Fastest };
        if (!encodings)
        {
            return options;
        }

        foreach (var field in new[] { Type, UserId, Scene, RequestId, Device, Ip, UserAgent, Category, SessionId, Model, Feedback })
        {
            options.ColumnEncodingHints[field.Path.ToString()] = EncodingHint.Dictionary;
        }

        // Offsets increase and timestamps nearly do: deltas are small.
        options.ColumnEncodingHints[Offset.Path.ToString()] = EncodingHint.DeltaBinaryPacked;
        options.ColumnEncodingHints[Ts.Path.ToString()] = EncodingHint.DeltaBinaryPacked;

        return options;
    }

    private readonly long[] _offset;
    private readonly string?[] _id, _type, _user, _item, _scene, _request, _device, _ip, _ua, _props, _title, _text,
        _category, _attrs, _session, _model, _turns, _feedback;
    private readonly DateTime[] _ts;
    private readonly int?[] _position;
    private readonly double?[] _value;
    private readonly bool?[] _deleted;
    private int[] _tagDef;
    private int[] _tagRep;
    private ReadOnlyMemory<char>[] _tagValues;
    private readonly ArrayBufferWriter<byte> _json = new(1024);
    private readonly Utf8JsonWriter _jsonWriter;

    public EventColumns(int capacity)
    {
        _offset = new long[capacity];
        _id = new string?[capacity]; _type = new string?[capacity]; _user = new string?[capacity];
        _item = new string?[capacity]; _scene = new string?[capacity]; _request = new string?[capacity];
        _device = new string?[capacity]; _ip = new string?[capacity]; _ua = new string?[capacity];
        _props = new string?[capacity]; _title = new string?[capacity]; _text = new string?[capacity];
        _category = new string?[capacity]; _attrs = new string?[capacity]; _session = new string?[capacity];
        _model = new string?[capacity]; _turns = new string?[capacity]; _feedback = new string?[capacity];
        _ts = new DateTime[capacity];
        _position = new int?[capacity];
        _value = new double?[capacity];
        _deleted = new bool?[capacity];
        _tagDef = new int[capacity * 2];
        _tagRep = new int[capacity * 2];
        _tagValues = new ReadOnlyMemory<char>[capacity];
        _jsonWriter = new Utf8JsonWriter(_json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public int Capacity => _offset.Length;

    /// <summary>Writes <paramref name="rows"/> (at most <see cref="Capacity"/>) as one row group.</summary>
    public async Task WriteRowGroupAsync(ParquetWriter writer, List<(long Offset, Event Event)> rows, CancellationToken ct)
    {
        int n = rows.Count;
        int tagLevels = 0, tagCount = 0;
        for (int i = 0; i < n; i++)
        {
            var (offset, e) = rows[i];
            _offset[i] = offset;
            _id[i] = e.Id; _type[i] = e.Type; _user[i] = e.UserId; _item[i] = e.ItemId;
            _ts[i] = e.Timestamp.UtcDateTime;
            _scene[i] = e.Scene; _position[i] = e.Position; _request[i] = e.RequestId;
            _device[i] = e.Device; _ip[i] = e.Ip; _ua[i] = e.UserAgent; _value[i] = e.Value;
            _props[i] = e.Properties is null ? null : DictionaryJson(e.Properties);
            _title[i] = e.Title; _text[i] = e.Text; _category[i] = e.Category;
            _attrs[i] = e.Attributes is null ? null : DictionaryJson(e.Attributes);
            _deleted[i] = e.Deleted; _session[i] = e.SessionId; _model[i] = e.Model;
            _turns[i] = e.Turns is null ? null : TurnsJson(e.Turns);
            _feedback[i] = e.Feedback;

            // Three-level list, non-null elements: definition 0 = null list, 1 = empty list, 2 = element present.
            var tags = e.Tags;
            if (tags is null || tags.Length == 0)
            {
                EnsureTagLevels(tagLevels + 1);
                _tagDef[tagLevels] = tags is null ? 0 : 1;
                _tagRep[tagLevels++] = 0;
                continue;
            }

            EnsureTagLevels(tagLevels + tags.Length);
            EnsureTagValues(tagCount + tags.Length);
            for (int t = 0; t < tags.Length; t++)
            {
                _tagDef[tagLevels] = 2;
                _tagRep[tagLevels++] = t == 0 ? 0 : 1;
                _tagValues[tagCount++] = (tags[t] ?? "").AsMemory();
            }
        }

        using var rg = writer.CreateRowGroup();
        await rg.WriteAsync<long>(Offset, _offset.AsMemory(0, n), null, null, ct).ConfigureAwait(false);
        await WriteStrings(rg, Id, _id, n).ConfigureAwait(false);
        await WriteStrings(rg, Type, _type, n).ConfigureAwait(false);
        await WriteStrings(rg, UserId, _user, n).ConfigureAwait(false);
        await WriteStrings(rg, ItemId, _item, n).ConfigureAwait(false);
        await rg.WriteAsync<DateTime>(Ts, _ts.AsMemory(0, n), null, null, ct).ConfigureAwait(false);
        await WriteStrings(rg, Scene, _scene, n).ConfigureAwait(false);
        await rg.WriteAsync<int>(Position, _position.AsMemory(0, n), null, null, ct).ConfigureAwait(false);
        await WriteStrings(rg, RequestId, _request, n).ConfigureAwait(false);
        await WriteStrings(rg, Device, _device, n).ConfigureAwait(false);
        await WriteStrings(rg, Ip, _ip, n).ConfigureAwait(false);
        await WriteStrings(rg, UserAgent, _ua, n).ConfigureAwait(false);
        await rg.WriteAsync<double>(Value, _value.AsMemory(0, n), null, null, ct).ConfigureAwait(false);
        await WriteStrings(rg, Properties, _props, n).ConfigureAwait(false);
        await WriteStrings(rg, Title, _title, n).ConfigureAwait(false);
        await WriteStrings(rg, Text, _text, n).ConfigureAwait(false);
        await WriteStrings(rg, Category, _category, n).ConfigureAwait(false);
        await rg.WriteAllPartsAsync<ReadOnlyMemory<char>>(
            TagElement, _tagValues.AsMemory(0, tagCount), _tagDef.AsMemory(0, tagLevels), _tagRep.AsMemory(0, tagLevels), ct).ConfigureAwait(false);
        await WriteStrings(rg, Attributes, _attrs, n).ConfigureAwait(false);
        await rg.WriteAsync<bool>(Deleted, _deleted.AsMemory(0, n), null, null, ct).ConfigureAwait(false);
        await WriteStrings(rg, SessionId, _session, n).ConfigureAwait(false);
        await WriteStrings(rg, Model, _model, n).ConfigureAwait(false);
        await WriteStrings(rg, Turns, _turns, n).ConfigureAwait(false);
        await WriteStrings(rg, Feedback, _feedback, n).ConfigureAwait(false);
        rg.CompleteValidate();

        // Drop references so buffered events can be collected.
        Array.Clear(_tagValues, 0, tagCount);
        foreach (var column in new[] { _id, _type, _user, _item, _scene, _request, _device, _ip, _ua, _props, _title, _text, _category, _attrs, _session, _model, _turns, _feedback })
        {
            Array.Clear(column, 0, n);
        }
    }

    private static Task WriteStrings(ParquetRowGroupWriter rg, DataField field, string?[] values, int n) =>
        rg.WriteAsync(field, new ArraySegment<string>(values!, 0, n));

    private void EnsureTagLevels(int needed)
    {
        if (needed > _tagDef.Length)
        {
            int size = Math.Max(needed, _tagDef.Length * 2);
            Array.Resize(ref _tagDef, size);
            Array.Resize(ref _tagRep, size);
        }
    }

    private void EnsureTagValues(int needed)
    {
        if (needed > _tagValues.Length)
        {
            Array.Resize(ref _tagValues, Math.Max(needed, _tagValues.Length * 2));
        }
    }

    private string DictionaryJson(Dictionary<string, JsonElement> dict)
    {
        _json.ResetWrittenCount();
        _jsonWriter.Reset(_json);
        _jsonWriter.WriteStartObject();
        foreach (var (key, value) in dict)
        {
            _jsonWriter.WritePropertyName(key);
            value.WriteTo(_jsonWriter);
        }

        _jsonWriter.WriteEndObject();
        _jsonWriter.Flush();
        return System.Text.Encoding.UTF8.GetString(_json.WrittenSpan);
    }

    private string TurnsJson(ConversationTurn[] turns)
    {
        _json.ResetWrittenCount();
        _jsonWriter.Reset(_json);
        _jsonWriter.WriteStartArray();
        foreach (var turn in turns)
        {
            _jsonWriter.WriteStartObject();
            _jsonWriter.WriteString("role", turn.Role);
            _jsonWriter.WriteString("content", turn.Content);
            _jsonWriter.WriteEndObject();
        }

        _jsonWriter.WriteEndArray();
        _jsonWriter.Flush();
        return System.Text.Encoding.UTF8.GetString(_json.WrittenSpan);
    }
}
