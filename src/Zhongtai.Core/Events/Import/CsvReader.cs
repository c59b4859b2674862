using System.Text;

namespace Zhongtai.Events.Import;

/// <summary>A line-numbered reader of delimited text: RFC 4180 quoting for CSV, plain splitting otherwise.</summary>
internal static class DelimitedReader
{
    /// <summary>Yields (line number, fields) for each non-empty line; a quoted field may span lines.</summary>
    public static IEnumerable<(int Line, string[] Fields)> Read(string path, char separator, Encoding? encoding = null)
    {
        using var reader = new StreamReader(path, encoding ?? Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var lineNumber = 0;
        string? line;
        var fields = new List<string>();
        var field = new StringBuilder();
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            var start = lineNumber;
            if (line.Length == 0)
            {
                continue;
            }

            fields.Clear();
            field.Clear();
            var inQuotes = false;
            var i = 0;
            while (true)
            {
                if (i == line.Length)
                {
                    if (!inQuotes)
                    {
                        break;
                    }

                    // A quoted field continues on the next line.
                    line = reader.ReadLine() ?? throw new ImportException(path, start, "A quoted field is not closed before the end of the file.");
                    lineNumber++;
                    field.Append('\n');
                    i = 0;
                    continue;
                }

                var c = line[i++];
                if (inQuotes)
                {
                    if (c == '"')
                    {
                        if (i < line.Length && line[i] == '"')
                        {
                            field.Append('"');
                            i++;
                        }
                        else
                        {
                            inQuotes = false;
                        }
                    }
                    else
                    {
                        field.Append(c);
                    }
                }
                else if (c == '"' && field.Length == 0)
                {
                    inQuotes = true;
                }
                else if (c == separator)
                {
                    fields.Add(field.ToString());
                    field.Clear();
                }
                else
                {
                    field.Append(c);
                }
            }

            fields.Add(field.ToString());
            yield return (start, fields.ToArray());
        }
    }
}

/// <summary>An import file cannot be read; names the file and line.</summary>
public sealed class ImportException(string path, int line, string message)
    : Exception($"{path}:{line}: {message}")
{
    public string Path { get; } = path;
    public int Line { get; } = line;
}
