// Standard emoji shortcodes as Slack names them: the ones complaintbot posts plus the common
// ones people type. A small table on purpose; an unknown :name: is shown as typed, as Slack
// shows a custom emoji it cannot find.
"use strict";
window.SLACK_EMOJI = {
  // what complaintbot posts
  rotating_light: "🚨", warning: "⚠️", scales: "⚖️", lock: "🔒", no_entry: "⛔",
  hourglass: "⌛", hourglass_flowing_sand: "⏳", wastebasket: "🗑️", money_with_wings: "💸",
  arrow_up: "⬆️", white_check_mark: "✅", x: "❌", bar_chart: "📊", chart_with_upwards_trend: "📈",
  chart_with_downwards_trend: "📉", bell: "🔔", memo: "📝", speech_balloon: "💬", robot_face: "🤖",
  alarm_clock: "⏰", stopwatch: "⏱️", calendar: "📆", date: "📅", pushpin: "📌", link: "🔗",
  bust_in_silhouette: "👤", busts_in_silhouette: "👥", inbox_tray: "📥", double_vertical_bar: "⏸️",
  classical_building: "🏛️", arrow_forward: "▶️",
  // common reactions and faces
  "+1": "👍", thumbsup: "👍", "-1": "👎", thumbsdown: "👎", ok_hand: "👌", clap: "👏", wave: "👋",
  pray: "🙏", raised_hands: "🙌", muscle: "💪", eyes: "👀", point_right: "👉", point_left: "👈",
  point_up: "☝️", point_down: "👇", smile: "😄", smiley: "😃", grinning: "😀", blush: "😊",
  slightly_smiling_face: "🙂", wink: "😉", joy: "😂", rolling_on_the_floor_laughing: "🤣",
  sweat_smile: "😅", laughing: "😆", heart_eyes: "😍", thinking_face: "🤔", neutral_face: "😐",
  expressionless: "😑", confused: "😕", disappointed: "😞", worried: "😟", cry: "😢", sob: "😭",
  angry: "😠", rage: "😡", scream: "😱", fearful: "😨", flushed: "😳", sleeping: "😴",
  upside_down_face: "🙃", face_with_rolling_eyes: "🙄", grimacing: "😬", relieved: "😌",
  sunglasses: "😎", nerd_face: "🤓", partying_face: "🥳", shushing_face: "🤫", skull: "💀",
  // hearts and symbols
  heart: "❤️", broken_heart: "💔", sparkles: "✨", star: "⭐", star2: "🌟", fire: "🔥", boom: "💥",
  tada: "🎉", confetti_ball: "🎊", zap: "⚡", "100": "💯", heavy_check_mark: "✔️",
  ballot_box_with_check: "☑️", heavy_multiplication_x: "✖️", exclamation: "❗", question: "❓",
  grey_exclamation: "❕", grey_question: "❔", bangbang: "‼️", interrobang: "⁉️",
  information_source: "ℹ️", sos: "🆘", no_entry_sign: "🚫", stop_sign: "🛑", construction: "🚧",
  red_circle: "🔴", large_orange_circle: "🟠", large_yellow_circle: "🟡", large_green_circle: "🟢",
  large_blue_circle: "🔵", white_circle: "⚪", black_circle: "⚫", small_red_triangle: "🔺",
  small_red_triangle_down: "🔻", arrow_down: "⬇️", arrow_right: "➡️", arrow_left: "⬅️",
  arrows_counterclockwise: "🔄", repeat: "🔁", heavy_plus_sign: "➕", heavy_minus_sign: "➖",
  new: "🆕", free: "🆓", up: "🆙", cool: "🆒", ok: "🆗", top: "🔝", soon: "🔜",
  // objects people mention in complaints and work
  package: "📦", truck: "🚚", shopping_trolley: "🛒", credit_card: "💳", moneybag: "💰",
  dollar: "💵", email: "📧", envelope: "✉️", outbox_tray: "📤",
  telephone_receiver: "📞", phone: "☎️", iphone: "📱", computer: "💻", hammer_and_wrench: "🛠️",
  wrench: "🔧", gear: "⚙️", mag: "🔍", bulb: "💡", key: "🔑", unlock: "🔓", shield: "🛡️",
  clipboard: "📋", file_folder: "📁", page_facing_up: "📄", bookmark: "🔖", label: "🏷️",
  paperclip: "📎", scissors: "✂️", pencil2: "✏️", lower_left_ballpoint_pen: "🖊️",
  loudspeaker: "📢", mega: "📣", rocket: "🚀", trophy: "🏆",
  coffee: "☕", pizza: "🍕", beer: "🍺", cake: "🍰", gift: "🎁", balloon: "🎈",
  sun_with_face: "🌞", sunny: "☀️", cloud: "☁️", umbrella: "☂️", snowflake: "❄️",
  earth_africa: "🌍", globe_with_meridians: "🌐", house: "🏠", office: "🏢", runner: "🏃",
  dog: "🐶", cat: "🐱", bug: "🐛", bee: "🐝", turtle: "🐢", snail: "🐌", seedling: "🌱",
  wilted_flower: "🥀", hiking_boot: "🥾", shirt: "👕", jeans: "👖", athletic_shoe: "👟",
  tent: "⛺", backpack: "🎒", lock_with_ink_pen: "🔏", closed_lock_with_key: "🔐",
};
// Slack's skin tone modifiers, typed after a hand: :+1::skin-tone-3:
window.SLACK_SKIN_TONES = {
  "skin-tone-2": "🏻", "skin-tone-3": "🏼", "skin-tone-4": "🏽", "skin-tone-5": "🏾",
  "skin-tone-6": "🏿",
};
