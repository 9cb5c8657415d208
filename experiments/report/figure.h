// One figure of the report: an SVG chart with its title and a caption that says how to read it. The HTML page
// wraps it in <figure>; the Markdown report lists the same information as tables.
#pragma once

#include <string>

namespace grove::experiments::report {

struct Figure {
  std::string id;       // unique in the page, also the SVG's id
  std::string title;    // plain text
  std::string caption;  // plain text: what is drawn and how to read it
  std::string svg;      // the complete <svg> element
  bool wide = false;    // takes the page's full width instead of one column
};

}  // namespace grove::experiments::report
